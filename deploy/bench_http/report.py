"""The figures as text: one console line per path while measuring, and the Markdown report
(`docs/benchmarks.md`) once every mode is done."""

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime

from common.paths import REPO_ROOT
from deploy.bench_http.accounting import process_role
from deploy.bench_http.hot_paths import ModeRun, Result, hot_paths


def result_line(result: Result) -> str:
    p50 = f"{result.p50_ms:.1f}" if result.p50_ms is not None else "-"
    p99 = f"{result.p99_ms:.1f}" if result.p99_ms is not None else "-"
    return (
        f"{result.name:<28} {result.requests_per_second:9.1f} req/s  p50 {p50:>7} ms  "
        f"p99 {p99:>7} ms  errors {result.errors}  {result.note}"
    )


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
            entry = groups.setdefault(process_role(command), [0, 0, 0])
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
