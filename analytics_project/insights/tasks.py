from celery import shared_task
from django.core.cache import cache

from insights import services


@shared_task(name="analytics.daily_metrics_catch_up", ignore_result=True)
def daily_metrics_catch_up() -> int:
    """Bring the daily metrics up to the read models' position (safe to run any number of times)."""
    # Cleared first: an append committing while this runs schedules the next catch-up.
    cache.delete(services.CATCH_UP_SCHEDULED_KEY)
    return services.daily_metrics_catch_up()
