from django.contrib import admin, messages

from catalog import services
from catalog.models import Video
from catalog.services import EDITABLE_FIELDS


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = [
        "id", "title", "status", "category", "uploaded_by", "duration", "price_per_minute",
        "processing_attempts", "processing_seconds", "processing_error", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "category"]
    search_fields = ["title", "description", "=uploaded_by"]
    readonly_fields = [
        "uploaded_by", "status", "processing_error", "processing_attempts", "processing_seconds",
        "size_bytes", "duration", "width", "height", "container", "video_codec", "audio_codec",
        "source_path", "media_path", "hls_path", "thumbnail_path", "created_at", "updated_at",
        "ready_at",
    ]  # fmt: skip
    actions = ["reprocess"]

    def has_add_permission(self, request):
        # Videos arrive through the upload API, which probes and stores the file.
        return False

    # Staff edits and deletions go through the services like the uploader's, so caches of the
    # catalog and the gateway hear of them (catalog version, `video.updated`/`video.deleted`).
    def save_model(self, request, obj, form, change):
        edits = {f: form.cleaned_data[f] for f in form.changed_data if f in EDITABLE_FIELDS}
        if edits:
            services.video_update(video_id=obj.id, by_staff=True, **edits)

    def delete_model(self, request, obj):
        services.video_delete(video_id=obj.id, by_staff=True)

    def delete_queryset(self, request, queryset):
        for video_id in queryset.values_list("id", flat=True):
            services.video_delete(video_id=video_id, by_staff=True)

    @admin.action(description="Re-run processing")
    def reprocess(self, request, queryset):
        for video in queryset:
            try:
                services.video_reprocess(video_id=video.id)
            except services.ReprocessImpossible as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                self.message_user(request, f"video {video.id} queued for processing")
