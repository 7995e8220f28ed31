from django.urls import path

from playback import api

urlpatterns = [
    path("start/<int:video_id>", api.StartView.as_view(), name="stream-start"),
    path("url/<uuid:session_id>", api.MediaView.as_view(), name="stream-bytes"),
    path("url/<uuid:session_id>/hls/<path:name>", api.MediaView.as_view(), name="stream-hls"),
    path("heartbeat/<uuid:session_id>", api.HeartbeatView.as_view(), name="stream-heartbeat"),
    path("end/<uuid:session_id>", api.EndView.as_view(), name="stream-end"),
    path("sessions/active", api.ActiveSessionsView.as_view(), name="stream-active"),
]
