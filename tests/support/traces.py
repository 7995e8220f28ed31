"""Reading the spans a platform wrote with `STREAMIFY_TRACES_FILE=<folder>` (common.tracing)."""

import json
from pathlib import Path

from common.testing.processes import wait_for

# What starting a stream goes through: the gateway, streaming, video's gRPC, billing's charge,
# and analytics consuming `stream.started` from the broker and projecting it.
STREAM_START_HOPS = {
    ("gateway", "SERVER", "POST proxy:streaming"),
    ("streaming", "SERVER", "POST /api/stream/start/<int:video_id>"),
    ("video", "SERVER", "/video.VideoService/GetVideo"),
    ("billing", "SERVER", "POST /api/billing/charge"),
    ("analytics", "CONSUMER", "stream.started process"),
    ("analytics", "INTERNAL", "stream.started project"),
}


def spans_in(folder: Path) -> list[dict]:
    found = []
    for path in folder.glob("*.jsonl"):
        found += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return found


def service_of(span: dict) -> str:
    return span["resource"]["attributes"]["service.name"]


def kind_of(span: dict) -> str:
    return span["kind"].removeprefix("SpanKind.")


def trace_of(folder: Path, *, method: str, path_ends: str) -> list[dict]:
    """Every span of the trace the gateway's latest server span for `method` `...path_ends`
    opened, or [] while that span is not written yet."""
    spans = spans_in(folder)
    edge = [
        s for s in spans
        if service_of(s) == "gateway" and kind_of(s) == "SERVER"
        and s["attributes"].get("http.request.method") == method
        and s["attributes"].get("url.path", "").endswith(path_ends)
    ]  # fmt: skip
    if not edge:
        return []
    trace_id = max(edge, key=lambda s: s["start_time"])["context"]["trace_id"]
    return [s for s in spans if s["context"]["trace_id"] == trace_id]


def hops(spans: list[dict]) -> set[tuple[str, str, str]]:
    """(service, kind, name) of each span."""
    return {(service_of(s), kind_of(s), s["name"]) for s in spans}


def parent_outside(spans: list[dict]) -> list[str]:
    """The spans whose parent is not in `spans`, but for the root: none in a connected trace."""
    ids = {s["context"]["span_id"] for s in spans}
    return [s["name"] for s in spans if s["parent_id"] is not None and s["parent_id"] not in ids]


def trace_holding(
    folder: Path, wanted: set[tuple[str, str, str]], *, method: str, path_ends: str, timeout=60
) -> list[dict]:
    """`trace_of` once every hop in `wanted` is written in it: each process writes its spans on
    its own schedule, so the last hop to end is not always the last to reach the folder."""

    def complete() -> list[dict] | None:
        spans = trace_of(folder, method=method, path_ends=path_ends)
        return spans if wanted <= hops(spans) else None

    try:
        return wait_for(complete, timeout=timeout, what="every hop in the trace")
    except TimeoutError:
        written = hops(trace_of(folder, method=method, path_ends=path_ends))
        raise AssertionError(f"the trace lacks {sorted(wanted - written)}") from None
