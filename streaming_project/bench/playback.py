"""Benchmarks of the money and bytes paths, by hand (not part of the test suite):

    cd streaming_project && ../.venv/bin/python bench/playback.py [--size-mb 100]

Boots billing (granian), video's gRPC server and streaming (granian) on free ports with
throw-away PostgreSQL databases, then measures, each for a few seconds:
- Range throughput: one 100 MB file read from disk vs. fetched over HTTP (whole, and in 8 MB
  ranges) from streaming, in the same run, page cache warm for both;
- heartbeats per second (PUT /api/stream/heartbeat, 4 clients on 4 sessions);
- charges per second on one wallet and across 50 wallets (POST /api/billing/charge, 4 clients).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from itertools import count
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "streaming_project")]
os.environ.setdefault("STREAMIFY_DEV", "1")
OWN_VAR_DIR = "STREAMIFY_VAR_DIR" not in os.environ
os.environ.setdefault("STREAMIFY_VAR_DIR", tempfile.mkdtemp(prefix="streamify-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "streaming_project.settings")
os.environ["STREAMIFY_LOG_LEVEL"] = "WARNING"

import django  # noqa: E402

django.setup()

import requests  # noqa: E402

from common.auth.service_tokens import authorization_header  # noqa: E402
from common.testing.postgres import temporary_databases  # noqa: E402
from common.testing.processes import (  # noqa: E402
    BIN,
    Process,
    free_port,
    manage,
    wait_for,
    wait_http_ok,
    web_process,
)
from common.testing.tokens import bearer  # noqa: E402

CHUNK = 1024 * 1024
SEED = """
from catalog.models import Video
v = Video.objects.create(title="Bench", category="Bench", price_per_minute=1, uploaded_by=1,
    status="ready", duration=36000.0, media_path="bench/video.mp4",
    hls_path="bench/hls/index.m3u8", thumbnail_path="bench/thumb.jpg")
print("ID=%d" % v.id)
"""


def write_file(path: Path, size_mb: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(CHUNK))


def read_disk(path: Path) -> float:
    began = time.perf_counter()
    with path.open("rb") as handle:
        while handle.read(CHUNK):
            pass
    return time.perf_counter() - began


def fetch(session: requests.Session, url: str, headers: dict | None = None) -> int:
    received = 0
    with session.get(url, headers=headers or {}, stream=True, timeout=60) as response:
        assert response.status_code in (200, 206), response.status_code
        for block in response.iter_content(CHUNK):
            received += len(block)
    return received


def fetch_whole(url: str, size: int) -> float:
    began = time.perf_counter()
    assert fetch(requests.Session(), url) == size
    return time.perf_counter() - began


def fetch_ranges(url: str, size: int, step: int = 8 * CHUNK) -> float:
    session = requests.Session()
    began = time.perf_counter()
    total = 0
    for start in range(0, size, step):
        end = min(start + step, size) - 1
        total += fetch(session, url, {"Range": f"bytes={start}-{end}"})
    assert total == size
    return time.perf_counter() - began


def rate(clients: int, seconds: float, make_call) -> tuple[float, int]:
    """Calls per second from `clients` threads calling `make_call(index)` for `seconds`."""
    done, stop = [0] * clients, time.perf_counter() + seconds

    def run(index: int) -> None:
        call = make_call(index)
        while time.perf_counter() < stop:
            call()
            done[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - began), sum(done)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()

    var = Path(os.environ["STREAMIFY_VAR_DIR"])
    media, logs = var / "media", var / "logs"
    logs.mkdir(exist_ok=True)
    video_file = media / "bench" / "video.mp4"
    write_file(video_file, args.size_mb)
    size = video_file.stat().st_size
    processes: list[Process] = []
    results: dict = {"fileMB": args.size_mb}
    with temporary_databases(["billing", "video", "streaming"], prefix="streamify_bench") as urls:
        try:
            billing_port, streaming_port, grpc_port = free_port(), free_port(), free_port()
            env = {
                "PATH": os.environ["PATH"],
                "HOME": os.environ.get("HOME", "/tmp"),
                "STREAMIFY_DEV": "1",
                "STREAMIFY_VAR_DIR": str(var),
                "STREAMIFY_MEDIA_ROOT": str(media),
                "STREAMIFY_LOG_LEVEL": "WARNING",
                "STREAMIFY_ACCESS_LOG": "0",
                "BILLING_URL": f"http://127.0.0.1:{billing_port}",
                "VIDEO_GRPC_TARGET": f"127.0.0.1:{grpc_port}",
                # Throughput, not the paid edge (bench/paid_bytes.py): every byte is fetchable.
                "STREAMING_READ_AHEAD_SECONDS": "36000",
                **{f"{s.upper()}_DATABASE_URL": url for s, url in urls.items()},
            }
            for service in urls:
                manage(service, "migrate", "--noinput", "-v0", env=env)
                manage(service, "setup_broker", env=env)
            video_id = int(manage("video", "shell", "-c", SEED, env=env).split("ID=")[1])
            billing = web_process("billing", billing_port, env=env, log_dir=logs).start()
            streaming = web_process("streaming", streaming_port, env=env, log_dir=logs).start()
            grpc_argv = [str(BIN / "python"), "manage.py", "run_grpc_server", "--port"]
            video = Process(
                "video-grpc",
                [*grpc_argv, str(grpc_port)],
                env=env,
                cwd=ROOT / "video_project",
                log_dir=logs,
            ).start()
            processes += [billing, streaming, video]
            billing_url, streaming_url = env["BILLING_URL"], f"http://127.0.0.1:{streaming_port}"
            wait_http_ok(f"{billing_url}/health", process=billing)
            wait_http_ok(f"{streaming_url}/health", process=streaming)
            wait_for(lambda: "listening" in video.log_tail(), what="video gRPC server")

            users = count(1)

            def funded_user(amount: int) -> int:
                user_id = next(users)
                response = requests.post(
                    f"{billing_url}/api/billing/deposit",
                    json={"amount": amount},
                    headers=bearer(user_id),
                    timeout=10,
                )
                assert response.status_code == 200, response.text
                return user_id

            def start_session(user_id: int) -> dict:
                response = requests.post(
                    f"{streaming_url}/api/stream/start/{video_id}",
                    headers=bearer(user_id),
                    timeout=10,
                )
                assert response.status_code == 200, response.text
                return response.json()

            # Bytes: warm the page cache once, then best of two passes each.
            viewer = funded_user(1000)
            url = f"{streaming_url}{start_session(viewer)['streamUrl']}"
            read_disk(video_file)
            disk = min(read_disk(video_file) for _ in range(2))
            whole = min(fetch_whole(url, size) for _ in range(2))
            ranged = min(fetch_ranges(url, size) for _ in range(2))
            mb = size / CHUNK
            results["diskReadMBps"] = round(mb / disk, 1)
            results["httpWholeFileMBps"] = round(mb / whole, 1)
            results["http8MBRangesMBps"] = round(mb / ranged, 1)

            # Heartbeats: one session per client (a session's heartbeats take turns by design).
            watchers = [funded_user(100000) for _ in range(args.clients)]
            sessions = [start_session(u)["sessionId"] for u in watchers]

            def heartbeat_call(index: int):
                http = requests.Session()
                target = f"{streaming_url}/api/stream/heartbeat/{sessions[index]}"
                headers = bearer(watchers[index], expires_in=3600)

                def call():
                    assert http.put(target, headers=headers, timeout=10).status_code == 200

                return call

            results["heartbeatsPerSecond"], results["heartbeats"] = rate(
                args.clients, args.seconds, heartbeat_call
            )

            # Charges: unique keys, through billing's internal endpoint.
            keys = count(1)
            auth = {
                "Authorization": authorization_header(audience="billing", scopes=["billing.charge"])
            }
            one_wallet = funded_user(1_000_000)
            many = [funded_user(1_000_000) for _ in range(50)]

            def charge_call(pick):
                def make(index: int):
                    http = requests.Session()

                    def call():
                        n = next(keys)
                        body = {"userId": pick(n), "amount": 1, "idempotencyKey": f"bench:{n}"}
                        response = http.post(
                            f"{billing_url}/api/billing/charge", json=body, headers=auth, timeout=10
                        )
                        assert response.status_code == 201, response.text

                    return call

                return make

            results["chargesPerSecondOneWallet"], _ = rate(
                args.clients, args.seconds, charge_call(lambda n: one_wallet)
            )
            results["chargesPerSecondManyWallets"], _ = rate(
                args.clients, args.seconds, charge_call(lambda n: many[n % len(many)])
            )
            balance = requests.get(
                f"{billing_url}/api/billing/balance", headers=bearer(one_wallet), timeout=10
            ).json()["balance"]
            ledger = requests.get(
                f"{billing_url}/api/billing/transactions?limit=1",
                headers=bearer(one_wallet),
                timeout=10,
            ).json()
            results["oneWalletCheck"] = {
                "charges": ledger["total"] - 1,
                "balance": balance,
                "consistent": balance == 1_000_000 - (ledger["total"] - 1),
            }
        finally:
            for process in processes:
                process.stop()
            if OWN_VAR_DIR:
                shutil.rmtree(var, ignore_errors=True)
    for key, value in results.items():
        if isinstance(value, float):
            results[key] = round(value, 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
