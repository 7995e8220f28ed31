"""The platform's hot paths under load, measured from outside, next to a ceiling from the same run.

    python -m deploy.bench_http                  # embedded, then PostgreSQL + RabbitMQ + Redis
    python -m deploy.bench_http --modes real --compare HEAD~5    # "before" from a git ref too
    python -m deploy.bench_http --smoke          # a few seconds per path, nothing written

Each mode boots `make run` in a scratch folder (`deploy.booted`), fills the catalog with
`--videos` processed clips, and loads each path with wrk (`-t2 -c32`, login `-c4`). The ceiling
is the same stack answering its cheapest view, `/health/live`, so every figure is also a ratio
to what this server stack does on this machine, whatever else the machine is doing. Memory
(RSS and PSS of every process) and idle CPU are read from /proc before any load.

wrk's own CPU time is reported beside each row: a load generator that needs a whole core would
be measuring itself. Without wrk (a machine that cannot install Debian's package) `--smoke`
falls back to a small Python client; the full benchmark insists on wrk.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import requests

from common.paths import REPO_ROOT
from deploy.booted import (
    booted_platform,
    command_line,
    cpu_seconds,
    idle_cpu_percent,
    memory_kb,
)

DEMO_EMAIL, DEMO_PASSWORD = "demo@streamify.local", "streamify-demo"
# Rate limits stay on (their cost is part of every request) but far above any bench's rate.
UNLIMITED = {"GATEWAY_RATE_AUTH": "1000000000/m", "GATEWAY_RATE_GENERAL": "1000000000/m"}
# `real` is PostgreSQL + RabbitMQ, as the original system was measured; `--redis` adds Redis
# (shared rate-limit counters and cache), as a deployment with several gateways needs.
REDIS_ENV = {"REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")}


@dataclass
class HotPath:
    name: str
    service: str
    path: str
    connections: int = 32
    token: bool = False
    post: dict | None = None
    ceiling_of: str | None = None  # the ceiling this path is compared with
    cpu_by_process: bool = False  # report where each request's CPU time went


def hot_paths(video_id: int) -> list[HotPath]:
    return [
        HotPath("gateway liveness (ceiling)", "gateway", "/health/live"),
        HotPath("gateway health", "gateway", "/health", ceiling_of="gateway liveness (ceiling)"),
        HotPath(
            "catalog via gateway",
            "gateway",
            "/api/videos",
            ceiling_of="gateway liveness (ceiling)",
        ),
        HotPath("video liveness (ceiling)", "video", "/health/live"),
        HotPath("catalog direct", "video", "/api/videos", ceiling_of="video liveness (ceiling)"),
        HotPath(
            "balance via gateway",
            "gateway",
            "/api/billing/balance",
            token=True,
            ceiling_of="gateway liveness (ceiling)",
        ),
        HotPath(
            "video stats via gateway",
            "gateway",
            f"/api/analytics/cqrs/video/{video_id}/stats",
            token=True,
            ceiling_of="gateway liveness (ceiling)",
        ),
        HotPath(
            "login via gateway",
            "gateway",
            "/api/auth/login",
            connections=4,
            post={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        ),
        HotPath(
            "registration saga via gateway",
            "gateway",
            "/api/saga/register",
            connections=4,
            cpu_by_process=True,
            post={
                "email": "{unique}@bench.example",
                "password": "bench-password-1",
                "firstName": "Bench",
                "lastName": "User",
            },  # fmt: skip
        ),
    ]


@dataclass
class Result:
    name: str
    requests_per_second: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int = 0
    requests: int = 0
    loader_cpu: float = 0.0  # % of one core used by the load generator
    platform_cpu: float = 0.0  # % of one core used by the platform's processes
    cpu_ms_by_process: dict[str, float] = field(default_factory=dict)  # per request
    note: str = ""


@dataclass
class ModeRun:
    mode: str
    label: str
    results: list[Result] = field(default_factory=list)
    memory: list[tuple[str, int, int]] = field(default_factory=list)  # (command, rss, pss)
    idle_cpu: float = 0.0
    healthy_after: float = 0.0


# --- load generation --------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    found = {"errors": 0}
    for line in output.splitlines():
        line = line.strip()
        if m := re.match(r"50%\s+(\S+)", line):
            found["p50_ms"] = _ms(m.group(1))
        elif m := re.match(r"99%\s+(\S+)", line):
            found["p99_ms"] = _ms(m.group(1))
        elif m := re.match(r"(\d+) requests in", line):
            found["requests"] = int(m.group(1))
        elif m := re.match(r"Requests/sec:\s+([\d.]+)", line):
            found["requests_per_second"] = float(m.group(1))
        elif m := re.match(r"Non-2xx or 3xx responses:\s+(\d+)", line):
            found["errors"] += int(m.group(1))
        elif line.startswith("Socket errors:"):
            found["errors"] += sum(int(n) for n in re.findall(r"\d+", line))
    return found


def _wrk_script(path: HotPath, folder: Path) -> Path | None:
    if path.post is None:
        return None
    script = folder / "post.lua"
    body = json.dumps(json.dumps(path.post))
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    if "{unique}" in body:
        # A new email for every request: each thread numbers its own, under a per-run prefix.
        lines += [
            "local threads, counter, prefix = 0, 0, tostring(os.time())",
            "function setup(thread) threads = threads + 1; thread:set('tid', threads) end",
            "function request()",
            "  counter = counter + 1",
            "  local unique = prefix .. '-' .. tid .. '-' .. counter",
            f"  local body = string.gsub({body}, '{{unique}}', unique)",
            "  return wrk.format(nil, nil, nil, body)",
            "end",
        ]
    else:
        lines.append(f"wrk.body = {body}")
    script.write_text("\n".join(lines) + "\n")
    return script


def run_wrk(url: str, path: HotPath, *, token: str | None, seconds: float, platform_pids) -> Result:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        argv = ["wrk", "-t2", f"-c{path.connections}", f"-d{seconds:g}s", "--latency"]
        argv += ["--timeout", "10s"]
        if path.token and token:
            argv += ["-H", f"Authorization: Bearer {token}"]
        script = _wrk_script(path, Path(tmp))
        if script:
            argv += ["-s", str(script)]
        argv.append(url)
        groups = process_groups(platform_pids) if path.cpu_by_process else {}
        groups_before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        platform_before = cpu_seconds(platform_pids)
        started = time.monotonic()
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = process.stdout.read().decode()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        platform_cpu = (cpu_seconds(platform_pids) - platform_before) / elapsed * 100
        groups_used = {
            name: cpu_seconds(pids) - groups_before[name] for name, pids in groups.items()
        }
    if status != 0:
        return Result(path.name, note=f"wrk failed: {output[-300:]}")
    parsed = parse_wrk(output)
    answered = max(parsed.get("requests", 0), 1)
    return Result(
        path.name,
        loader_cpu=(usage.ru_utime + usage.ru_stime) / elapsed * 100,
        platform_cpu=platform_cpu,
        cpu_ms_by_process={name: used * 1000 / answered for name, used in groups_used.items()},
        **parsed,
    )


def process_groups(platform_pids: list[int]) -> dict[str, list[int]]:
    """The platform's processes by role, and the PostgreSQL and RabbitMQ servers' processes
    (whatever serves them on this machine: their CPU is part of a request's cost)."""
    groups: dict[str, list[int]] = {}
    for pid in platform_pids:
        groups.setdefault(_group(command_line(pid)), []).append(pid)
    listed = subprocess.run(["ps", "-e", "-o", "pid=,comm="], capture_output=True, text=True)
    for line in listed.stdout.splitlines():
        pid, name = line.split(None, 1)
        backend = {"postgres": "PostgreSQL", "beam.smp": "RabbitMQ"}.get(name.strip())
        if backend:
            groups.setdefault(backend, []).append(int(pid))
    return groups


def run_python_load(url: str, path: HotPath, *, token: str | None, seconds: float) -> Result:
    """A small threaded keep-alive client for machines without wrk (smoke only)."""
    import itertools
    import threading

    latencies: list[float] = []
    errors = [0]
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"} if path.token and token else {}
    template = json.dumps(path.post) if path.post is not None else None
    numbers, prefix = itertools.count(), f"{time.time_ns()}"

    def client():
        http = requests.Session()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                if template is not None:
                    # A new email per request where the body asks for one (as the wrk script).
                    body = template.replace("{unique}", f"{prefix}-{next(numbers)}")
                    response = http.post(url, data=body, headers={
                        **headers, "Content-Type": "application/json"}, timeout=10)  # fmt: skip
                else:
                    response = http.get(url, headers=headers, timeout=10)
                ok = response.status_code < 400
            except requests.RequestException:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors[0] += not ok

    threads = [threading.Thread(target=client) for _ in range(min(path.connections, 4))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return Result(
        path.name,
        requests_per_second=len(latencies) / elapsed,
        p50_ms=pick(0.5) if latencies else None,
        p99_ms=pick(0.99) if latencies else None,
        errors=errors[0],
        requests=len(latencies),
        note="python client",
    )


# --- the platform under test ------------------------------------------------------------------


def clip(folder: Path, seconds: int = 4) -> Path:
    """A 160x90 clip with sound (4 seconds unless told), made by ffmpeg from imageio-ffmpeg."""
    import imageio_ffmpeg

    out = folder / f"clip-{seconds}s.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=10:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
            "-movflags", "+faststart", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


def fill_catalog(gateway: str, token: str, count: int, timeout: float = 600) -> list[dict]:
    """Upload clips until the catalog holds `count` videos; wait until every one is ready."""
    auth = {"Authorization": f"Bearer {token}"}
    total = requests.get(f"{gateway}/api/videos?limit=1", timeout=10).json()["total"]
    with tempfile.TemporaryDirectory(prefix="bench-clip-") as tmp:
        source = clip(Path(tmp))
        for n in range(total, count):
            with source.open("rb") as handle:
                response = requests.post(
                    f"{gateway}/api/videos",
                    headers=auth,
                    files={"videoFile": ("bench.mp4", handle, "video/mp4")},
                    data={"title": f"Bench clip {n}", "category": "bench", "pricePerMinute": "5"},
                    timeout=60,
                )
            response.raise_for_status()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = requests.get(f"{gateway}/api/videos?limit=100", headers=auth, timeout=10).json()
        states = [v["status"] for v in page["videos"]]
        if page["total"] >= count and all(s == "ready" for s in states):
            return page["videos"]
        if "failed" in states:
            raise RuntimeError(f"a bench clip failed processing: {page}")
        time.sleep(1)
    raise TimeoutError("the catalog did not become ready in time")


def prepare_data(gateway: str, videos: int) -> tuple[str, int]:
    """The demo viewer's token, and a video with history in analytics."""
    login = requests.post(
        f"{gateway}/api/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    token = login.json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    requests.post(
        f"{gateway}/api/billing/deposit", json={"amount": 1_000_000}, headers=auth, timeout=30
    ).raise_for_status()
    catalog = fill_catalog(gateway, token, videos)
    video_id = catalog[0]["id"]
    started = requests.post(f"{gateway}/api/stream/start/{video_id}", headers=auth, timeout=30)
    started.raise_for_status()
    session = started.json()["sessionId"]
    requests.post(f"{gateway}/api/stream/end/{session}", headers=auth, timeout=30)
    return token, video_id


def measure_mode(mode: str, label: str, tree: Path, args, loader) -> ModeRun:
    run = ModeRun(mode, label)
    env = dict(UNLIMITED, **(REDIS_ENV if args.redis else {}))
    print(f"== {label}: booting `make run` ({mode})", flush=True)
    with booted_platform(real=mode == "real", tree=tree, env=env) as platform:
        run.healthy_after = platform.wait_healthy()
        gateway = platform.url("gateway")
        token, video_id = prepare_data(gateway, args.videos)
        pids = platform.pids()
        time.sleep(5)
        run.idle_cpu = idle_cpu_percent(pids, args.idle_seconds)
        for pid in pids:
            rss, pss = memory_kb(pid)
            run.memory.append((command_line(pid), rss, pss))
        for path in hot_paths(video_id):
            if args.paths and not any(p in path.name for p in args.paths):
                continue
            url = platform.url(path.service, path.path)
            result = loader(url, path, token=token, seconds=args.seconds, platform_pids=pids)
            if path.name.startswith("login"):
                # The login path's token is the demo user's, refreshed after its long run.
                token = prepare_token(gateway)
            run.results.append(result)
            print(f"   {_row(result)}", flush=True)
    return run


def prepare_token(gateway: str) -> str:
    login = requests.post(
        f"{gateway}/api/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=30,
    )
    return login.json()["token"]


def _row(result: Result) -> str:
    p50 = f"{result.p50_ms:.1f}" if result.p50_ms is not None else "-"
    p99 = f"{result.p99_ms:.1f}" if result.p99_ms is not None else "-"
    return (
        f"{result.name:<28} {result.requests_per_second:9.1f} req/s  p50 {p50:>7} ms  "
        f"p99 {p99:>7} ms  errors {result.errors}  {result.note}"
    )


# --- the report -------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(run: ModeRun, result: Result) -> str:
    path = next((p for p in hot_paths(0) if p.name == result.name), None)
    if path is None or path.ceiling_of is None:
        return ""
    ceiling = next((r for r in run.results if r.name == path.ceiling_of), None)
    if ceiling is None or not ceiling.requests_per_second or ceiling.errors:
        return "–"
    return f"{result.requests_per_second / ceiling.requests_per_second:.2f}"


def _group(command: str) -> str:
    for word in ("flower", "supervisor", "circus", "honcho", "make"):
        if word in command:
            return word
    match = re.search(r"(\w+)_project", command)
    kind = "worker" if " worker" in command else ("grpc" if "grpc" in command else "web")
    return f"{match.group(1)} {kind}" if match else command[:40]


def report(runs: list[ModeRun], args) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout.strip()
    wrk = ""
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    redis = " (and, in every mode, Redis for shared counters and cache)" if args.redis else ""
    lines = [
        "# HTTP benchmarks",
        "",
        f"Written by `python -m deploy.bench_http` ({' '.join(sys.argv[1:]) or 'defaults'}) on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit `{commit}`, "
        f"{os.cpu_count()} cores, load generator `{wrk or 'python client'}`: "
        f"`-t2 -c32 -d{args.seconds:g}s` (login `-c4`), {args.videos} videos in the catalog.",
        "",
        "Each mode boots `make run` in a scratch folder. `real` is PostgreSQL + RabbitMQ on this "
        f"machine{redis}. The ceiling is the same server stack answering `/health/live` (no I/O) "
        "in the same run: **ratio** = the path's req/s over its ceiling's, which holds on a "
        "noisy or different machine where absolute figures drift. *loader CPU* is wrk's own "
        "share of one core (it is not the bottleneck while well under 100%); *platform CPU* is "
        "every platform process together (200% = both cores).",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run.label}",
            "",
            "| path | req/s | p50 ms | p99 ms | errors | ratio to ceiling | loader CPU | "
            "platform CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in run.results:
            lines.append(
                f"| {r.name} | {_fmt(r.requests_per_second)} | {_fmt(r.p50_ms, 2)} | "
                f"{_fmt(r.p99_ms, 2)} | {r.errors} | {_ratio(run, r)} | {r.loader_cpu:.0f}% | "
                f"{r.platform_cpu:.0f}% |"
            )
        for r in run.results:
            if r.cpu_ms_by_process:
                lines += ["", f"CPU per request of *{r.name}*, by process (ms):", ""]
                lines += ["| process | CPU ms |", "|---|---:|"]
                spent = sorted(r.cpu_ms_by_process.items(), key=lambda kv: -kv[1])
                lines += [f"| {name} | {ms:.1f} |" for name, ms in spent if ms >= 0.05]
                lines.append(f"| **total** | **{sum(r.cpu_ms_by_process.values()):.1f}** |")
        gateway = next((r for r in run.results if r.name == "catalog via gateway"), None)
        direct = next((r for r in run.results if r.name == "catalog direct"), None)
        if gateway and direct and direct.requests_per_second:
            lines += [
                "",
                f"Gateway cost on the catalog (proxied / direct req/s): "
                f"**{gateway.requests_per_second / direct.requests_per_second:.2f}**.",
            ]
        groups: dict[str, list[int]] = {}
        for command, rss, pss in run.memory:
            entry = groups.setdefault(_group(command), [0, 0, 0])
            entry[0] += 1
            entry[1] += rss
            entry[2] += pss
        total_rss = sum(m[1] for m in run.memory) / 1024
        total_pss = sum(m[2] for m in run.memory) / 1024
        lines += [
            "",
            f"Idle (after boot and data set-up, {args.idle_seconds:g} s): "
            f"**{len(run.memory)} processes, {total_rss:,.0f} MB RSS, {total_pss:,.0f} MB PSS, "
            f"{run.idle_cpu:.1f}% of one core**; every /health answered "
            f"{run.healthy_after:.1f} s after `make run`.",
            "",
            "| processes | count | RSS MB | PSS MB |",
            "|---|---:|---:|---:|",
        ]
        for name, (count, rss, pss) in sorted(groups.items(), key=lambda kv: -kv[1][1]):
            lines.append(f"| {name} | {count} | {rss / 1024:,.0f} | {pss / 1024:,.0f} |")
        lines.append("")
    return "\n".join(lines)


def worktree(ref: str, stack) -> Path:
    """A checkout of `ref` beside this one (its own venv is made by its `make run`)."""
    folder = Path(tempfile.mkdtemp(prefix="streamify-before-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), ref],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    stack.callback(
        lambda: subprocess.run(
            ["git", "worktree", "remove", "--force", str(folder)], cwd=REPO_ROOT, check=False
        )
    )
    return folder


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="embedded,real")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--idle-seconds", type=float, default=20)
    parser.add_argument("--paths", nargs="*", help="only paths whose name contains one of these")
    parser.add_argument("--compare", metavar="GIT_REF", help="also measure this ref, first")
    parser.add_argument("--redis", action="store_true", help="with REDIS_URL (every mode)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--smoke", action="store_true", help="2 s per path, embedded, no file")
    args = parser.parse_args()
    if args.smoke:
        args.modes, args.seconds, args.videos, args.idle_seconds = "embedded", 2, 4, 2
    if shutil.which("wrk"):
        loader = run_wrk
    elif args.smoke:
        loader = lambda url, path, **kw: run_python_load(  # noqa: E731
            url, path, token=kw["token"], seconds=kw["seconds"]
        )
    else:
        print("wrk is missing: `apt-get install wrk` (Debian's package)", file=sys.stderr)
        return 2
    from contextlib import ExitStack

    runs = []
    with ExitStack() as stack:
        before = worktree(args.compare, stack) if args.compare else None
        for mode in args.modes.split(","):
            if before:
                runs.append(measure_mode(mode, f"{mode}, before ({args.compare})", before, args,
                                         loader))  # fmt: skip
            runs.append(measure_mode(mode, f"{mode}", REPO_ROOT, args, loader))
    text = report(runs, args)
    if args.smoke:
        failed = [r for run in runs for r in run.results if r.errors or not r.requests]
        print(text)
        if failed:
            print(f"smoke: errors on {[r.name for r in failed]}", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
