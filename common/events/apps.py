from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "common.events"
    label = "events"
    verbose_name = "Events (outbox, inbox, dead letters)"
