"""A client of the original system: stubs generated from its protos (`original/`), nothing of
Streamify's imported. Run as its own process (its `auth` and `video` packages would clash with
Streamify's in one descriptor pool); prints every reply as JSON, with proto field names and
defaults, as such a client would read them.

    python original_client.py AUTH_TARGET VIDEO_TARGET USER_TOKEN USER_ID VIDEO_ID
"""

import importlib
import json
import sys
import tempfile
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict
from grpc_tools import protoc

ORIGINAL = Path(__file__).parent / "original"


def generated(out: Path) -> dict:
    args = ["protoc", f"-I{ORIGINAL}", f"--python_out={out}", f"--grpc_python_out={out}"]
    if protoc.main([*args, "auth.proto", "video.proto"]) != 0:
        raise SystemExit("protoc failed on the original protos")
    sys.path.insert(0, str(out))
    return {
        name: (importlib.import_module(f"{name}_pb2"), importlib.import_module(f"{name}_pb2_grpc"))
        for name in ("auth", "video")
    }


def as_read(message) -> dict:
    return MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def main() -> None:
    auth_target, video_target, token, user_id, video_id = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as tmp:
        (auth_pb2, auth_grpc), (video_pb2, video_grpc) = generated(Path(tmp)).values()
        auth = auth_grpc.AuthServiceStub(grpc.insecure_channel(auth_target))
        video = video_grpc.VideoServiceStub(grpc.insecure_channel(video_target))
        own = [("authorization", f"Bearer {token}")]
        replies = {
            "VerifyToken": auth.VerifyToken(auth_pb2.VerifyTokenRequest(token=token), timeout=10),
            "VerifyToken(bad)": auth.VerifyToken(
                auth_pb2.VerifyTokenRequest(token="not-a-token"), timeout=10
            ),
            "GetUserProfile": auth.GetUserProfile(
                auth_pb2.GetUserProfileRequest(user_id=int(user_id)), metadata=own, timeout=10
            ),
            "auth HealthCheck": auth.HealthCheck(auth_pb2.HealthCheckRequest(), timeout=10),
            "ListVideos": video.ListVideos(
                video_pb2.ListVideosRequest(page=1, limit=10), timeout=10
            ),
            "GetVideo": video.GetVideo(
                video_pb2.GetVideoRequest(video_id=int(video_id)), timeout=10
            ),
            "video HealthCheck": video.HealthCheck(video_pb2.HealthCheckRequest(), timeout=10),
        }
    print(json.dumps({name: as_read(reply) for name, reply in replies.items()}))


if __name__ == "__main__":
    main()
