from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    label = "streamify_common"
    verbose_name = "Streamify common"

    def ready(self):
        # Registers the schema extensions (credentials, error bodies) with drf-spectacular.
        from django.conf import settings

        from common import (
            openapi,  # noqa: F401
            tracing,
        )
        from common.metrics.database import instrument_queries

        instrument_queries()
        if hasattr(settings, "SERVICE_NAME"):
            tracing.configure(settings.SERVICE_NAME)
