"""The gateway's Celery app: saga outcomes on `gateway`, plus the saga supervisor below."""

from common.workers import PeriodicStep, create_app

app = create_app("gateway")


class SagaSupervisor(PeriodicStep):
    """Worker component: run the saga recovery pass periodically (resend or give up steps that
    never answered)."""

    job = "registration.services.saga_recover"
    interval_setting = "SAGA_RECOVERY_INTERVAL_SECONDS"


app.steps["worker"].add(SagaSupervisor)
