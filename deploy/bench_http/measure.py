"""One mode measured: `make run` booted here or in a worktree of another ref, the data set up,
idle memory and CPU read, then each hot path loaded in turn."""

import subprocess
import tempfile
import time
from pathlib import Path

from common.env import redis_url
from common.paths import REPO_ROOT
from deploy.bench_http.dataset import prepare_data, prepare_token
from deploy.bench_http.hot_paths import ModeRun, hot_paths
from deploy.bench_http.report import result_line
from deploy.booted import booted_platform, command_line, idle_cpu_percent, memory_kb

# Rate limits stay on (their cost is part of every request) but far above any bench's rate.
UNLIMITED = {"GATEWAY_RATE_AUTH": "1000000000/m", "GATEWAY_RATE_GENERAL": "1000000000/m"}
# `real` is PostgreSQL + RabbitMQ, as the original system was measured; `--redis` adds Redis
# (shared rate-limit counters and cache), as a deployment with several gateways needs.
REDIS_ENV = {"REDIS_URL": redis_url() or "redis://127.0.0.1:6379/0"}


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
            print(f"   {result_line(result)}", flush=True)
    return run


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
