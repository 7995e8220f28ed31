from django.contrib import admin

from common.admin import ReadOnlyAdmin
from common.events.models import DeadLetter, InboxEvent, OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    allow_delete = True
    list_display = ["id", "type", "state", "created_at", "published_at", "attempts", "last_error"]
    list_filter = ["type", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["id", "type"]


@admin.register(InboxEvent)
class InboxEventAdmin(ReadOnlyAdmin):
    allow_delete = True
    list_display = ["event_id", "type", "source", "applied_at"]
    list_filter = ["type", "source"]
    search_fields = ["event_id"]


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    allow_delete = True
    list_display = ["event_id", "type", "attempts", "failed_at", "error"]
    list_filter = ["type"]
    search_fields = ["event_id", "error"]
