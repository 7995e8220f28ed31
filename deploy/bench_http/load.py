"""Load on one hot path: wrk, with the CPU the platform spent meanwhile, or, for a smoke run on a
machine without wrk, a small Python client."""

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from deploy.bench_http.accounting import process_groups
from deploy.bench_http.hot_paths import HotPath, Result
from deploy.booted import cpu_seconds

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
