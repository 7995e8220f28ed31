"""Every service and the gateway booted for a suite that attacks every route: real processes
on free ports, PostgreSQL databases and a RabbitMQ vhost of their own, the demo user and its
generated, fully processed videos, a funded wallet and one live playback session.

No Celery worker runs: nothing in flight changes a row behind the suites' backs, so a table
that changed was changed by the request that was sent.
"""

import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import jwt
import psycopg2
import pytest
import requests

from common.service_registry import DEFAULT_GRPC_PORTS, SERVICES
from common.testing import backends
from common.testing.platform import Platform
from common.testing.postgres import temporary_databases
from common.testing.processes import free_port, manage, wait_for, wait_http_ok, web_process
from common.testing.rabbitmq import private_vhost
from common.testing.tokens import user_claims

DEMO_EMAIL, DEMO_PASSWORD = "demo@streamify.local", "streamify-demo"
FUNDS = 100_000
# Service tokens are short-lived: one is minted again once it is this old.
SERVICE_TOKEN_REUSE_SECONDS = 50

ROWS_DIGEST = """SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))
FROM "{table}" t"""

# Internal routes: which service calls them, with which scopes.
INTERNAL_CALLERS = {
    "/api/auth/pending-credentials": ("gateway", ("users:create",)),
    "/api/auth/users/{user_id}": ("gateway", ("users:delete",)),
    "/api/billing/account/create": ("gateway", ("billing.accounts",)),
    "/api/billing/account/{user_id}": ("gateway", ("billing.accounts",)),
    "/api/billing/charge": ("streaming", ("billing.charge",)),
    "/api/billing/refund": ("streaming", ("billing.charge",)),
    "/api/analytics/internal/profiles": ("gateway", ("analytics.profiles",)),
    "/api/analytics/internal/profiles/{user_id}": ("gateway", ("analytics.profiles",)),
}


class FullPlatform:
    """The booted platform and what a caller needs to reach every route of it."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self.http = requests.Session()
        self._service_tokens: dict[tuple, tuple[float, str]] = {}
        self.demo_user_id = 0
        self.video_ids: list[int] = []
        self.session: dict = {}

    def url(self, service: str, path: str = "") -> str:
        return self.platform.url(service, path)

    # --- more of the platform -------------------------------------------------------------

    def start_replica(self, service: str, **env) -> str:
        """One more web process of `service` on a free port (stopped with the platform)."""
        port = free_port()
        process = web_process(
            service, port, env=self.platform.env(**env), log_dir=self.platform.logs
        )
        self.platform.track(process.start())
        url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{url}/health", timeout=60, process=process)
        return url

    def upload_ready(self, film: Path, **fields: str) -> requests.Response:
        """Upload `film` as the demo user through the gateway; once its answer is 201, wait
        until the video is processed. Returns the upload's answer."""
        headers = self.user_headers()
        with film.open("rb") as handle:
            created = self.http.post(
                self.url("gateway", "/api/videos"),
                headers=headers,
                data=fields,
                files={"videoFile": (film.name, handle, "video/mp4")},
                timeout=60,
            )
        if created.status_code == 201:
            path = f"/api/videos/{created.json()['id']}"
            wait_for(
                lambda: (
                    self.http.get(self.url("gateway", path), headers=headers, timeout=10).json()[
                        "status"
                    ]
                    == "ready"
                ),
                timeout=180,
                what=f"video {created.json()['id']} processed",
            )
        return created

    # --- credentials ----------------------------------------------------------------------

    def user_headers(self, *, staff: bool = False) -> dict:
        """A bearer token of the demo user, signed with the platform's key as auth signs them,
        valid for an hour (a run outlasts the 15 minutes of a login's token)."""
        key = (self.platform.var / "secrets" / "jwt_private.pem").read_text()
        claims = user_claims(self.demo_user_id, is_staff=staff, email=DEMO_EMAIL, expires_in=3600)
        return {"Authorization": f"Bearer {jwt.encode(claims, key, algorithm='RS256')}"}

    def service_headers(self, *, caller: str, audience: str, scopes: tuple[str, ...]) -> dict:
        """Service credentials minted by `caller` itself (its settings, its keys), as the
        platform's own calls carry them."""
        key = (caller, audience, scopes)
        minted_at, header = self._service_tokens.get(key, (0.0, ""))
        if time.monotonic() - minted_at > SERVICE_TOKEN_REUSE_SECONDS:
            code = (
                "from common.auth.service_tokens import authorization_header; "
                f"print(authorization_header(audience={audience!r}, scopes={list(scopes)!r}))"
            )
            output = manage(caller, "shell", "-v", "0", "-c", code, env=self.platform.env())
            header = output.strip().splitlines()[-1]
            self._service_tokens[key] = (time.monotonic(), header)
        return {"Authorization": header}

    def route_headers(self, service: str, path: str, operation: dict) -> dict:
        """Credentials that pass for the OpenAPI `operation` at `path` of `service`, so the
        answer comes from the route's own checks: a service token minted by the route's
        caller, else a bearer token when the route wants a user, else none."""
        if path in INTERNAL_CALLERS:
            caller, scopes = INTERNAL_CALLERS[path]
            return self.service_headers(caller=caller, audience=service, scopes=scopes)
        if not any("userToken" in option for option in operation.get("security", [])):
            return {}
        # Auth checks that the token's user exists; elsewhere staff opens staff routes too.
        return self.user_headers(staff=service != "auth")

    # --- what the platform says about itself ----------------------------------------------

    def schema(self, service: str) -> dict:
        response = self.http.get(self.url(service, "/api/schema?format=json"), timeout=30)
        response.raise_for_status()
        return response.json()

    def breakers(self) -> dict[str, dict]:
        response = self.http.get(self.url("gateway", "/api/circuit-breaker/stats"), timeout=10)
        response.raise_for_status()
        return response.json()["breakers"]

    def fingerprint(self, service: str) -> dict[str, str]:
        """Every table of `service`'s database as `{table: "<rows>:<md5 of its rows>"}`."""
        url = self.platform.database_urls[service]
        with closing(psycopg2.connect(url)) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            found = {}
            for (table,) in sorted(cursor.fetchall()):
                cursor.execute(ROWS_DIGEST.format(table=table))
                rows, digest = cursor.fetchone()
                found[table] = f"{rows}:{digest}"
            conn.rollback()
        return found


def _boot(stack: ExitStack, root: Path, extra_env: dict[str, str]) -> FullPlatform:
    broker_url = stack.enter_context(private_vhost("streamify-fuzz"))
    databases = stack.enter_context(temporary_databases(list(SERVICES), prefix="streamify_fuzz"))
    platform = Platform(root, broker_url=broker_url, database_urls=databases)
    stack.callback(platform.stop)
    for service in SERVICES:
        platform.urls[service] = f"http://127.0.0.1:{free_port()}"
    platform.extra_env.update(
        {
            **{f"{s.upper()}_GRPC_PORT": str(free_port()) for s in DEFAULT_GRPC_PORTS},
            # Hundreds of requests from one address in a minute: the point here is what each
            # answers, not the limiter (its own tests cover it).
            "GATEWAY_RATELIMIT_ENABLE": "0",
            # No worker runs the registration saga's steps: answer 202 without waiting long.
            "SAGA_WAIT_SECONDS": "0.2",
            "STREAMIFY_LOG_LEVEL": "WARNING",
            **extra_env,
        }
    )
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(platform.prepare, SERVICES))
    env = platform.env()
    demo_user_id = int(manage("auth", "ensure_demo_user", env=env).strip())
    manage("video", "seed_demo_videos", "--owner-id", str(demo_user_id), env=env, timeout=300)
    # Upstreams first, callers after them (streaming calls video and billing), the gateway last.
    for service in ("auth", "video", "billing", "analytics", "streaming", "gateway"):
        grpc = {"STREAMIFY_GRPC_IN_WEB": "1"} if service in DEFAULT_GRPC_PORTS else {}
        platform.start_web(service, **grpc)
    full = FullPlatform(platform)
    full.demo_user_id = demo_user_id
    _seed(full)
    return full


def _seed(full: FullPlatform) -> None:
    http, gateway = full.http, full.url("gateway")
    login = http.post(
        f"{gateway}/api/auth/login",
        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    user = {"Authorization": f"Bearer {login.json()['token']}"}
    deposit = http.post(
        f"{gateway}/api/billing/deposit", json={"amount": FUNDS}, headers=user, timeout=30
    )
    deposit.raise_for_status()
    videos = http.get(f"{gateway}/api/videos?limit=50", timeout=30).json()["videos"]
    full.video_ids = sorted(v["id"] for v in videos if v["status"] == "ready")
    assert full.video_ids, videos
    started = http.post(f"{gateway}/api/stream/start/{full.video_ids[0]}", headers=user, timeout=30)
    started.raise_for_status()
    full.session = started.json()


def require_real_backends() -> None:
    missing = [
        u for u in (backends.postgres_url(), backends.amqp_url()) if not backends.reachable(u)
    ]
    if missing:
        if backends.required():
            pytest.fail(f"real backends required but unreachable: {missing}")
        pytest.skip(f"real backends unreachable: {missing}")


@contextmanager
def booted_full_platform(**env: str) -> Iterator[FullPlatform]:
    """Boot the whole platform for the block (`env` added to every process's environment);
    stop it and drop its databases afterwards."""
    require_real_backends()
    root = Path(tempfile.mkdtemp(prefix="streamify-fuzz-"))
    try:
        with ExitStack() as stack:
            yield _boot(stack, root, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
