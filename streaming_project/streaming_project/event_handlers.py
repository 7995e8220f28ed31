"""Every event type the streaming service consumes, and the handler that applies it."""

HANDLERS: dict[str, str] = {
    "video.deleted": "playback.events.handle_video_deleted",
}
