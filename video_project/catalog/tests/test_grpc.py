"""video.VideoService through a real gRPC server on a free port."""

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from catalog.grpc import SERVICE_NAME, add_servicers, video_pb2
from catalog.models import VideoStatus
from catalog.tests.test_api import make_video
from common.rpc.protos import proto_modules
from common.rpc.server import serve, stop
from common.testing.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stub():
    port = free_port()
    server = serve(
        add_servicers=add_servicers, service_names=[SERVICE_NAME], port=port, max_workers=2
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    _, video_pb2_grpc = proto_modules("video")
    try:
        yield video_pb2_grpc.VideoServiceStub(channel), channel
    finally:
        channel.close()
        stop(server, grace=0)


def test_get_video_returns_metadata_and_media_paths(stub):
    service, _ = stub
    video = make_video(
        title="Ocean", category="nature", price_per_minute=15, uploaded_by=4, duration=65.0
    )

    answer = service.GetVideo(video_pb2.GetVideoRequest(video_id=video.id), timeout=5)
    reply = answer.video

    assert answer.error == ""
    assert (reply.id, reply.title, reply.category, reply.status) == (
        video.id, "Ocean", "nature", "ready",
    )  # fmt: skip
    assert (reply.duration, reply.duration_seconds) == (65, 65.0)
    assert (reply.price_per_minute, reply.uploaded_by, reply.filename) == (15, 4, "source.mp4")
    assert reply.thumbnail_url == f"/api/videos/{video.id}/thumbnail"
    assert reply.media_path == "videos/x/source.mp4"
    assert reply.hls_path == "videos/x/r1/hls/master.m3u8"
    assert reply.created_at == video.created_at.isoformat()


def test_get_video_shows_processing_videos_and_not_found_is_a_status(stub):
    service, _ = stub
    pending = make_video(
        status=VideoStatus.PROCESSING, duration=None, media_path="", hls_path="", thumbnail_path=""
    )
    reply = service.GetVideo(video_pb2.GetVideoRequest(video_id=pending.id), timeout=5).video
    assert (reply.status, reply.duration_seconds, reply.hls_path) == ("processing", 0.0, "")

    with pytest.raises(grpc.RpcError) as error:
        service.GetVideo(video_pb2.GetVideoRequest(video_id=987654), timeout=5)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND
    assert error.value.details() == "video 987654 not found"


def test_list_videos_filters_and_paginates_the_public_catalog(stub):
    service, _ = stub
    for i in range(4):
        make_video(title=f"Jazz {i}", category="music")
    make_video(title="Cooking", category="food")
    make_video(title="Jazz draft", category="music", status=VideoStatus.FAILED,
               media_path="", hls_path="", thumbnail_path="")  # fmt: skip

    reply = service.ListVideos(
        video_pb2.ListVideosRequest(category="music", page=2, limit=3), timeout=5
    )
    assert (reply.total, reply.page, reply.limit, len(reply.videos)) == (4, 2, 3, 1)
    everything = service.ListVideos(video_pb2.ListVideosRequest(), timeout=5)
    assert (everything.total, everything.page, everything.limit) == (5, 1, 10)
    found = service.ListVideos(video_pb2.ListVideosRequest(search="cook"), timeout=5)
    assert [v.title for v in found.videos] == ["Cooking"]

    with pytest.raises(grpc.RpcError) as error:
        service.ListVideos(video_pb2.ListVideosRequest(limit=500), timeout=5)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_health_check_and_standard_health_service(stub):
    service, channel = stub
    reply = service.HealthCheck(video_pb2.HealthCheckRequest(), timeout=5)
    assert (reply.status, reply.service) == ("ok", "video")
    standard = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=5
    )
    assert standard.status == health_pb2.HealthCheckResponse.SERVING
