from celery import shared_task

from playback import services


@shared_task(name="playback.sweep_sessions", ignore_result=True)
def sweep_sessions() -> dict:
    """End idle sessions and refund abandoned starts (also run by every worker on a timer)."""
    return services.sessions_sweep()
