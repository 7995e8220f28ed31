from django.urls import path, register_converter

from common.urls import PositiveIntConverter
from playback import api

register_converter(PositiveIntConverter, "id")

urlpatterns = [
    path("start/<int:video_id>", api.StartView.as_view(), name="stream-start"),
    # The seed's unsigned URL: refused (403), it names the signed URLs to use instead.
    path("url/<uuid:session_id>", api.MediaView.as_view(), name="stream-unsigned"),
    path("url/<uuid:session_id>/<str:token>/video.mp4", api.MediaView.as_view(), name="stream-mp4"),
    path(
        "url/<uuid:session_id>/<str:token>/hls/<path:name>",
        api.MediaView.as_view(),
        name="stream-hls",
    ),
    path("heartbeat/<uuid:session_id>", api.HeartbeatView.as_view(), name="stream-heartbeat"),
    path("end/<uuid:session_id>", api.EndView.as_view(), name="stream-end"),
    # By the session's number: what the original system's GraphQL clients hold.
    path("end/<id:session_id>", api.EndView.as_view(), name="stream-end-by-number"),
    path("sessions/active", api.ActiveSessionsView.as_view(), name="stream-active"),
]
