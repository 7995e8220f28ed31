from django.contrib import admin

from common.admin import ReadOnlyAdmin
from playback.models import StreamSession


@admin.register(StreamSession)
class StreamSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "user_id", "video_id", "status", "minutes_charged", "price_per_minute",
        "started_at", "last_heartbeat_at", "ended_at", "end_reason",
    ]  # fmt: skip
    list_filter = ["status", "end_reason"]
    search_fields = ["id", "user_id", "video_id"]
    allow_delete = True
