from common.events.consumer import Event
from playback import services


def handle_video_deleted(event: Event) -> None:
    """A deleted video stops playing: end its active sessions, charging nothing more."""
    video_id = event.data.get("videoId")
    if not isinstance(video_id, int) or isinstance(video_id, bool):
        raise ValueError(f"video.deleted without a valid videoId: {video_id!r}")
    services.sessions_end_for_video(video_id=video_id)
