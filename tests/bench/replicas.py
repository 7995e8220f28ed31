"""Heartbeats per second through the gateway with one streaming replica and with two.

    python -m tests.bench.replicas [--seconds 10] [--sessions 16] [--rounds 2]

Boots the whole platform on PostgreSQL and RabbitMQ, starts a second streaming process and a
second gateway whose `STREAMING_URL` lists both streaming processes, opens `--sessions` live
sessions of the demo viewer, and loads `PUT /api/stream/heartbeat/{id}` (the sessions in
turn) with wrk on each gateway, alternating, next to the same run's `/health/live` ceiling.
On a 2-core machine a second replica shares the same cores: expect little gain.
"""

import argparse
import subprocess
import tempfile
from pathlib import Path

import requests

from deploy.bench_http.load import parse_wrk
from tests.support.full_platform import booted_full_platform

HEARTBEATS = """
local paths, turn = {{{paths}}}, 0
wrk.method = "PUT"
wrk.body = "{{}}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "{authorization}"
function request()
  turn = turn % #paths + 1
  return wrk.format(nil, paths[turn])
end
"""


def _wrk(url: str, seconds: int, script: Path | None = None) -> dict:
    argv = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if script:
        argv += ["-s", str(script)]
    output = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with booted_full_platform() as full, tempfile.TemporaryDirectory() as folder:
        both = f"{full.url('streaming')},{full.start_replica('streaming')}"
        gateways = {
            "1 replica": full.url("gateway"),
            "2 replicas": full.start_replica("gateway", STREAMING_URL=both),
        }
        headers = full.user_headers()
        videos = full.video_ids
        sessions = [
            requests.post(
                full.url("gateway", f"/api/stream/start/{videos[i % len(videos)]}"),
                headers=headers,
                json={},
                timeout=30,
            ).json()["sessionId"]
            for i in range(args.sessions)
        ]
        script = Path(folder) / "heartbeats.lua"
        paths = ", ".join(f'"/api/stream/heartbeat/{s}"' for s in sessions)
        script.write_text(HEARTBEATS.format(paths=paths, authorization=headers["Authorization"]))
        print("| run | streaming replicas | heartbeats/s | p50 ms | p99 ms | errors | ", end="")
        print("ceiling /health/live req/s |")
        print("|---|---|---|---|---|---|---|")
        for round_number in range(1, args.rounds + 1):
            for label, gateway in gateways.items():
                beats = _wrk(f"{gateway}/", args.seconds, script)
                ceiling = _wrk(f"{gateway}/health/live", args.seconds)
                print(
                    f"| {round_number} | {label} | {beats['requests_per_second']:,.0f} | "
                    f"{beats['p50_ms']:.1f} | {beats['p99_ms']:.1f} | {beats['errors']} | "
                    f"{ceiling['requests_per_second']:,.0f} |"
                )


if __name__ == "__main__":
    main()
