from pathlib import Path

from common import env
from common.env import ENV
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
GATEWAY_MAX_BODY_BYTES = ENV.int("GATEWAY_MAX_BODY_BYTES", default=2 * 1024**3)
# Largest body the gateway itself parses (GraphQL, saga registration).
DATA_UPLOAD_MAX_MEMORY_SIZE = ENV.int("GATEWAY_MAX_OWN_BODY_BYTES", default=256 * 1024)

# Rate limits (django-ratelimit syntax, "<count>/<period>", period like 15m). The auth default is
# the seed's 100 requests per 15 minutes per client IP; the general limit covers everything else.
GATEWAY_RATE_AUTH = ENV.str("GATEWAY_RATE_AUTH", default="100/15m")
GATEWAY_RATE_GENERAL = ENV.str("GATEWAY_RATE_GENERAL", default="600/m")
# Peers whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, e.g. a load balancer).
GATEWAY_TRUSTED_PROXIES = env.names("GATEWAY_TRUSTED_PROXIES")
RATELIMIT_ENABLE = env.flag("GATEWAY_RATELIMIT_ENABLE", default=True)
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
GRAPHQL_MAX_DEPTH = ENV.int("GRAPHQL_MAX_DEPTH", default=6)
GRAPHQL_MAX_COMPLEXITY = ENV.int("GRAPHQL_MAX_COMPLEXITY", default=1000)
GRAPHQL_MAX_UPSTREAM_CALLS = ENV.int("GRAPHQL_MAX_UPSTREAM_CALLS", default=20)
GRAPHQL_MAX_TOKENS = ENV.int("GRAPHQL_MAX_TOKENS", default=5000)

# Registration saga
SAGA_WAIT_SECONDS = ENV.float("SAGA_WAIT_SECONDS", default=5.0)
SAGA_STEP_TIMEOUT_SECONDS = ENV.float("SAGA_STEP_TIMEOUT_SECONDS", default=30.0)
SAGA_MAX_ATTEMPTS = ENV.int("SAGA_MAX_ATTEMPTS", default=3)
SAGA_RECOVERY_INTERVAL_SECONDS = ENV.float("SAGA_RECOVERY_INTERVAL_SECONDS", default=10.0)

SPECTACULAR_SETTINGS = {  # noqa: F821
    **SPECTACULAR_SETTINGS,  # noqa: F821
    "DESCRIPTION": "Gateway-owned routes; the services' own schemas are linked from /api/docs.",
    # Swagger UI's assets from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
