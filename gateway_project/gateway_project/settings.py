import os
from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        "gateway",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=[
            "drf_spectacular_sidecar",
            "graphene_django",
            "proxy",
            "resilience",
            "graph",
            "registration",
            "webui",
        ],
        # Right after the request id: a refused request costs one cache increment and no more.
        middleware=("resilience.middleware.RateLimitMiddleware",),
        metrics_state=("registration.metrics.sagas",),
    )
)

# The upstreams it fronts and their routes: common/service_registry.py.

# Largest request body the gateway relays (video uploads); bigger -> 413 before any byte moves.
GATEWAY_MAX_BODY_BYTES = int(os.environ.get("GATEWAY_MAX_BODY_BYTES", str(2 * 1024**3)))
# Largest body the gateway itself parses (GraphQL, saga registration).
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("GATEWAY_MAX_OWN_BODY_BYTES", str(256 * 1024)))

# Rate limits (django-ratelimit syntax, "<count>/<period>", period like 15m). The auth default is
# the seed's 100 requests per 15 minutes per client IP; the general limit covers everything else.
GATEWAY_RATE_AUTH = os.environ.get("GATEWAY_RATE_AUTH", "100/15m")
GATEWAY_RATE_GENERAL = os.environ.get("GATEWAY_RATE_GENERAL", "600/m")
# Peers whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, e.g. a load balancer).
GATEWAY_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("GATEWAY_TRUSTED_PROXIES", "").split(",") if p.strip()
]
RATELIMIT_ENABLE = os.environ.get("GATEWAY_RATELIMIT_ENABLE", "1") == "1"
RATELIMIT_USE_CACHE = "ratelimit"
# With REDIS_URL the counts are shared by every gateway process (an atomic INCR). Without it each
# process counts in its own memory, so with WEB_CONCURRENCY=n a client may get up to n times the
# limit: accepted for the single-host embedded mode, where no count may cost a file write.
SILENCED_SYSTEM_CHECKS = [
    *SILENCED_SYSTEM_CHECKS,  # noqa: F821 - defined by service_settings above
    "django_ratelimit.E003",
    "django_ratelimit.W001",
]

# GraphQL
GRAPHENE = {"SCHEMA": "graph.schema.schema"}
# Limits of one document, checked before its first upstream call (graph/validation.py): levels
# of fields, fields resolved (list items counted at the list's limit), upstream calls in the
# worst case, and lexical tokens (parsing and validation cost grow with them).
GRAPHQL_MAX_DEPTH = int(os.environ.get("GRAPHQL_MAX_DEPTH", "6"))
GRAPHQL_MAX_COMPLEXITY = int(os.environ.get("GRAPHQL_MAX_COMPLEXITY", "1000"))
GRAPHQL_MAX_UPSTREAM_CALLS = int(os.environ.get("GRAPHQL_MAX_UPSTREAM_CALLS", "20"))
GRAPHQL_MAX_TOKENS = int(os.environ.get("GRAPHQL_MAX_TOKENS", "5000"))

# Registration saga
SAGA_WAIT_SECONDS = float(os.environ.get("SAGA_WAIT_SECONDS", "5"))
SAGA_STEP_TIMEOUT_SECONDS = float(os.environ.get("SAGA_STEP_TIMEOUT_SECONDS", "30"))
SAGA_MAX_ATTEMPTS = int(os.environ.get("SAGA_MAX_ATTEMPTS", "3"))
SAGA_RECOVERY_INTERVAL_SECONDS = float(os.environ.get("SAGA_RECOVERY_INTERVAL_SECONDS", "10"))

SPECTACULAR_SETTINGS = {  # noqa: F821
    **SPECTACULAR_SETTINGS,  # noqa: F821
    "DESCRIPTION": "Gateway-owned routes; the services' own schemas are linked from /api/docs.",
    # Swagger UI's assets from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
