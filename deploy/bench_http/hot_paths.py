"""What the bench loads (each hot path and the ceiling it is compared with) and what it keeps."""

from dataclasses import dataclass, field

from deploy.bench_http.dataset import DEMO_EMAIL, DEMO_PASSWORD


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
