"""gRPC adapter of `video.VideoService`: proto <-> selectors; status codes are set here only."""

import grpc
from django.utils import timezone

from catalog import selectors
from catalog.models import Video
from common.rpc.protos import proto_modules
from common.rpc.server import serving_status
from common.rpc.status import status_codes

video_pb2, video_pb2_grpc = proto_modules("video")

SERVICE_NAME = video_pb2.DESCRIPTOR.services_by_name["VideoService"].full_name
MAX_LIMIT = 100


def _refusal(exc: Exception, request):
    if isinstance(exc, Video.DoesNotExist):
        return grpc.StatusCode.NOT_FOUND, f"video {request.video_id} not found"
    return None


_status_codes = status_codes(_refusal)


def video_message(video: Video):
    return video_pb2.Video(
        id=video.id,
        title=video.title,
        description=video.description,
        category=video.category,
        duration=round(video.duration or 0),
        price_per_minute=video.price_per_minute,
        filename=video.filename,
        uploaded_by=video.uploaded_by,
        created_at=video.created_at.isoformat(),
        updated_at=video.updated_at.isoformat(),
        status=video.status,
        media_path=video.media_path,
        hls_path=video.hls_path,
        processing_error=video.processing_error,
        width=video.width or 0,
        height=video.height or 0,
        thumbnail_url=video.thumbnail_url or "",
        duration_seconds=video.duration or 0.0,
    )


class VideoServicer(video_pb2_grpc.VideoServiceServicer):
    @_status_codes
    def ListVideos(self, request, context):
        page, limit = request.page or 1, request.limit or 10
        if page < 1 or not 1 <= limit <= MAX_LIMIT:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, f"page must be >= 1 and limit 1..{MAX_LIMIT}"
            )
        videos, total = selectors.video_list(
            viewer_id=None,
            category=request.category[:50],
            search=request.search[:200],
            page=page,
            limit=limit,
        )
        return video_pb2.ListVideosResponse(
            videos=[video_message(v) for v in videos], total=total, page=page, limit=limit
        )

    @_status_codes
    def GetVideo(self, request, context):
        video = selectors.video_get(video_id=request.video_id, is_staff=True)
        return video_pb2.GetVideoResponse(video=video_message(video))

    def HealthCheck(self, request, context):
        return video_pb2.HealthCheckResponse(
            status=serving_status(),
            service="video",
            timestamp=timezone.now().isoformat(),
        )


def add_servicers(server: grpc.Server) -> None:
    video_pb2_grpc.add_VideoServiceServicer_to_server(VideoServicer(), server)
