from django.contrib import admin, messages

from common.admin import ReadOnlyAdmin
from insights import replay
from insights.models import (
    Checkpoint,
    DailyMetric,
    Generation,
    PlatformStats,
    StoredEvent,
    UserStats,
    VideoStats,
)


@admin.register(StoredEvent)
class StoredEventAdmin(ReadOnlyAdmin):
    list_display = ["position", "type", "aggregate_type", "aggregate_id", "occurred_at", "source"]
    list_filter = ["type", "aggregate_type"]
    search_fields = ["event_id", "aggregate_id", "correlation_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


class CheckpointInline(admin.TabularInline):
    model = Checkpoint
    extra = 0
    can_delete = False
    readonly_fields = ["projector", "position", "updated_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(ReadOnlyAdmin):
    list_display = [
        "id", "status", "from_time", "events_replayed", "duration_ms", "started_at", "activated_at"
    ]  # fmt: skip
    inlines = [CheckpointInline]
    actions = ["replay"]

    @admin.action(description="Rebuild: replay the event store into a new generation (same window)")
    def replay(self, request, queryset):
        source = queryset.order_by("-id").first()
        try:
            result = replay.replay_run(from_time=source.from_time)
        except replay.ReplaySuperseded as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        self.message_user(
            request,
            f"Replayed {result.events_replayed} events into generation {result.generation} "
            f"in {result.duration_ms} ms.",
            level=messages.SUCCESS,
        )


@admin.register(VideoStats)
class VideoStatsAdmin(ReadOnlyAdmin):
    list_display = ["video_id", "generation", "title", "status", "views", "unique_viewers",
                    "watch_seconds", "revenue"]  # fmt: skip
    list_filter = ["generation", "status"]
    search_fields = ["video_id", "title"]


@admin.register(UserStats)
class UserStatsAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "generation", "profile_active", "views", "watch_seconds",
                    "amount_spent", "amount_deposited"]  # fmt: skip
    list_filter = ["generation", "profile_active"]
    search_fields = ["user_id"]


@admin.register(PlatformStats)
class PlatformStatsAdmin(ReadOnlyAdmin):
    list_display = ["generation", "users", "videos", "views", "watch_seconds", "revenue"]


@admin.register(DailyMetric)
class DailyMetricAdmin(ReadOnlyAdmin):
    list_display = ["day", "generation", "views", "viewers", "watch_seconds", "revenue"]
    list_filter = ["generation"]
    date_hierarchy = "day"
