"""Catalog reads: what a viewer may see, filtered and paginated."""

from django.db.models import Q, QuerySet

from catalog.models import Video, VideoStatus


def video_visible(*, viewer_id: int | None, is_staff: bool = False) -> QuerySet[Video]:
    """Ready videos for everyone; uploaders also see their own processing and failed ones."""
    videos = Video.objects.all()
    if is_staff:
        return videos
    visible = Q(status=VideoStatus.READY)
    if viewer_id is not None:
        visible |= Q(uploaded_by=viewer_id)
    return videos.filter(visible)


def video_list(
    *,
    viewer_id: int | None,
    is_staff: bool = False,
    category: str | None = None,
    search: str | None = None,
    uploaded_by: int | None = None,
    page: int = 1,
    limit: int = 10,
) -> tuple[list[Video], int]:
    """One page of visible videos, newest first, and the total matching the filters."""
    videos = video_visible(viewer_id=viewer_id, is_staff=is_staff)
    if category:
        videos = videos.filter(category=category.strip().lower())
    if search:
        videos = videos.filter(Q(title__icontains=search) | Q(description__icontains=search))
    if uploaded_by is not None:
        videos = videos.filter(uploaded_by=uploaded_by)
    offset = (page - 1) * limit
    return list(videos[offset : offset + limit]), videos.count()


def video_get(*, video_id: int, viewer_id: int | None = None, is_staff: bool = False) -> Video:
    """The video if the viewer may see it; raises Video.DoesNotExist otherwise."""
    return video_visible(viewer_id=viewer_id, is_staff=is_staff).get(id=video_id)
