from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    label = "streamify_common"
    verbose_name = "Streamify common"

    def ready(self):
        # Registers the schema extensions for our authentication classes.
        from common.auth import openapi  # noqa: F401
