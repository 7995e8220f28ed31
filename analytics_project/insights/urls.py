from django.urls import path, register_converter

from common.urls import PositiveIntConverter
from insights import api, internal_api

register_converter(PositiveIntConverter, "id")

urlpatterns = [
    path("dashboard", api.DashboardView.as_view(), name="dashboard"),
    path("videos/<id:video_id>", api.VideoStatsView.as_view(), name="video-report"),
    path("user", api.MyReportView.as_view(), name="my-report"),
    path("top-videos", api.TopVideosView.as_view(), name="top-videos"),
    path("revenue", api.RevenueView.as_view(), name="revenue"),
    path("reports/<str:period>", api.PeriodReportView.as_view(), name="period-report"),
    path("cqrs/record-view", api.RecordViewView.as_view(), name="record-view"),
    path("cqrs/video/<id:video_id>/stats", api.VideoStatsView.as_view(), name="video-stats"),
    path("cqrs/videos/stats", api.VideoStatsListView.as_view(), name="video-stats-list"),
    path("cqrs/user/<id:user_id>/history", api.UserHistoryView.as_view(), name="user-history"),
    path("cqrs/platform/stats", api.PlatformStatsView.as_view(), name="platform-stats"),
    path("cqrs/replay-events", api.ReplayView.as_view(), name="replay-events"),
    path(
        "internal/profiles", internal_api.InternalProfilesView.as_view(), name="internal-profiles"
    ),
    path(
        "internal/profiles/<id:user_id>",
        internal_api.InternalProfileView.as_view(),
        name="internal-profile",
    ),
]
