"""common.rpc mechanics: generation from protos/, client deadline and error translation."""

import subprocess
import sys
import time

import grpc
import pytest

from common.paths import REPO_ROOT
from common.rpc import protos
from common.rpc.client import GrpcUnavailable, call, channel_to
from common.testing.processes import free_port


def test_proto_modules_import_generated_code_from_build_dir():
    pb2, pb2_grpc = protos.proto_modules("auth")

    assert pb2.__file__.startswith(str(protos.BUILD_DIR))
    assert pb2.DESCRIPTOR.services_by_name["AuthService"].full_name == "auth.AuthService"
    assert hasattr(pb2_grpc, "AuthServiceStub")
    assert protos._stale_protos([protos.PROTO_DIR / "auth.proto"]) == []


def test_a_broken_proto_of_another_service_does_not_stop_this_one(tmp_path, monkeypatch):
    sources, build = tmp_path / "protos", tmp_path / "build"
    sources.mkdir()
    (sources / "good.proto").write_text(
        'syntax = "proto3";\npackage good;\nimport "shared.proto";\n'
        "message Ping { shared.Stamp at = 1; }\n"
    )
    (sources / "shared.proto").write_text(
        'syntax = "proto3";\npackage shared;\nmessage Stamp { int64 ms = 1; }\n'
    )
    (sources / "broken.proto").write_text("this is not a proto file")
    monkeypatch.setattr(protos, "PROTO_DIR", sources)
    monkeypatch.setattr(protos, "BUILD_DIR", build)

    written = protos.generate_all(names=["good"])

    assert sorted(p.name for p in written) == [
        "good_pb2.py",
        "good_pb2_grpc.py",
        "shared_pb2.py",
        "shared_pb2_grpc.py",
    ]
    with pytest.raises(RuntimeError, match="protoc failed"):
        protos.generate_all(names=["broken"])


def test_modules_not_generated_are_a_clear_error_not_a_protoc_run(tmp_path, monkeypatch):
    sources, build = tmp_path / "protos", tmp_path / "build"
    sources.mkdir()
    (sources / "lone.proto").write_text('syntax = "proto3";\npackage lone;\nmessage M {}\n')
    monkeypatch.setattr(protos, "PROTO_DIR", sources)
    monkeypatch.setattr(protos, "BUILD_DIR", build)

    with pytest.raises(ModuleNotFoundError, match="make protos"):
        protos.proto_modules("lone")
    assert not build.exists()


def test_unknown_proto_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="protos/nope.proto"):
        protos.proto_modules("nope")


def test_concurrent_regeneration_never_exposes_a_broken_module():
    code = (
        "from common.rpc import protos as p; p.generate_all(force=True, names=['auth']); "
        "pb2, _ = p.proto_modules('auth'); print(pb2.VerifyTokenRequest(token='t').token)"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=60)[0].strip() for run in runs]

    assert [run.returncode for run in runs] == [0, 0, 0]
    assert outputs == ["t", "t", "t"]


def test_call_to_nothing_fails_fast_as_unavailable():
    pb2, pb2_grpc = protos.proto_modules("auth")
    stub = pb2_grpc.AuthServiceStub(channel_to(f"127.0.0.1:{free_port()}"))

    started = time.monotonic()
    with pytest.raises(GrpcUnavailable) as failed:
        call(stub.HealthCheck, pb2.HealthCheckRequest(), timeout=0.5)

    assert failed.value.transient
    assert failed.value.code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    assert time.monotonic() - started < 3


def test_channel_is_cached_per_target():
    assert channel_to("127.0.0.1:1") is channel_to("127.0.0.1:1")
    assert channel_to("127.0.0.1:1") is not channel_to("127.0.0.1:2")


def test_breaker_hook_wraps_the_call():
    calls = []

    class Breaker:
        def call(self, func, *args, **kwargs):
            calls.append(func)
            return func(*args, **kwargs)

    def method(request, timeout, metadata):
        return (request, timeout)

    assert call(method, "req", timeout=1.5, breaker=Breaker()) == ("req", 1.5)
    assert len(calls) == 1
