from django.urls import path

from catalog.api import VideoDetailView, VideoListView, VideoThumbnailView

urlpatterns = [
    path("videos", VideoListView.as_view(), name="video-list"),
    path("videos/<int:video_id>", VideoDetailView.as_view(), name="video-detail"),
    path("videos/<int:video_id>/thumbnail", VideoThumbnailView.as_view(), name="video-thumbnail"),
]
