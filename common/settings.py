"""The settings every service shares; each project's settings.py calls `service_settings`."""

from datetime import timedelta
from pathlib import Path

import dj_database_url

from common import broker, env, logs, media_storage
from common.auth import keys
from common.env import ENV, var_dir
from common.metrics import COMMON_STATE

# Who may read /metrics (common.metrics.exposition): loopback and the private ranges a cluster
# or compose network uses.
METRICS_NETWORKS = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                    "fc00::/7")  # fmt: skip

SHARED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "common",
    "common.events",
]


def service_settings(
    service: str,
    *,
    project_dir: Path,
    apps: list[str],
    signs_tokens: bool = False,
    middleware: tuple[str, ...] = (),
    metrics_state: tuple[str, ...] = (),
) -> dict:
    """Return the settings of `service`; its settings module publishes them as globals.

    `signs_tokens` is true only for auth, the one service that holds the JWT private key.
    `middleware` runs after the shared front (metrics, request id) and before the rest;
    `metrics_state` names the service's own scrape-time readings (`common.metrics.state`).
    """
    debug = env.flag("DJANGO_DEBUG")
    # Parsed now, once per process: a service without its own service-token key does not start.
    keys.service_private_key(service)
    return {
        "SERVICE_NAME": service,
        "BASE_DIR": project_dir,
        "SECRET_KEY": env.secret(f"{service.upper()}_SECRET_KEY"),
        "DEBUG": debug,
        "ALLOWED_HOSTS": ENV.list("DJANGO_ALLOWED_HOSTS", default=["*"]),
        "INSTALLED_APPS": [*SHARED_APPS, *apps],
        "MIDDLEWARE": [
            # First, so that every answer carries an id; then the one observer of each request
            # (span, metrics, log line), so a refusal by any middleware after it is seen too.
            "common.upstreams.RequestIDMiddleware",
            "common.observed.ObservedRequestsMiddleware",
            *middleware,
            "django.middleware.security.SecurityMiddleware",
            "common.limits.RequestSizeLimitMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "common.middleware.AdminMiddleware",
            # No page of ours may be framed by another site (the web UI spends money on a click).
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        # The admin's own middleware runs, for the admin only, inside common.middleware.
        "SILENCED_SYSTEM_CHECKS": ["admin.E408", "admin.E409", "admin.E410"],
        "ROOT_URLCONF": f"{service}_project.urls",
        "WSGI_APPLICATION": f"{service}_project.wsgi.application",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            },
        ],
        "DATABASES": {"default": database(service)},
        "CACHES": caches(service),
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": False,
        "USE_TZ": True,
        # One media folder or bucket (common/media_storage.py), written by video, read by
        # streaming; metadata is never shared.
        "MEDIA_ROOT": ENV.str("STREAMIFY_MEDIA_ROOT", default=str(var_dir() / "media")),
        "STORAGES": media_storage.storages(),
        "MEDIA_URL": "media/",
        "STATIC_URL": "static/",
        "STATIC_ROOT": static_root(service),
        # Admin assets come straight from the installed apps: no collectstatic step to forget.
        "WHITENOISE_USE_FINDERS": True,
        "REST_FRAMEWORK": {
            "EXCEPTION_HANDLER": "common.errors.exception_handler",
            "DEFAULT_RENDERER_CLASSES": ["common.payloads.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["common.payloads.JSONParser"],
            "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.payloads.JSONFirstNegotiation",
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "common.auth.authentication.UserTokenAuthentication"
            ],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"Streamify {service}",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
        },
        "SIMPLE_JWT": jwt_settings(signs_tokens),
        "LOGGING": logs.logging_config(),
        "METRICS_STATE": [*COMMON_STATE, *metrics_state],
        **call_settings(),
        **celery_settings(service),
        **event_settings(service),
    }


def call_settings() -> dict:
    """How this service calls others, and who may read what it exposes."""
    return {
        "HTTP_CONNECT_TIMEOUT": ENV.float("STREAMIFY_HTTP_CONNECT_TIMEOUT", default=2.0),
        "HTTP_READ_TIMEOUT": ENV.float("STREAMIFY_HTTP_READ_TIMEOUT", default=10.0),
        # Keep-alive connections kept per upstream instance (common.upstreams).
        "HTTP_POOL_SIZE": ENV.int("STREAMIFY_HTTP_POOL_SIZE", default=16),
        "GRPC_TIMEOUT": ENV.float("STREAMIFY_GRPC_TIMEOUT", default=2.0),
        # /health/ready answers are reused this long (common.health).
        "READY_CACHE_SECONDS": ENV.float("STREAMIFY_READY_CACHE_SECONDS", default=2.0),
        # Set but empty: nobody may read /metrics.
        "METRICS_ALLOW": ENV.list("STREAMIFY_METRICS_ALLOW", default=list(METRICS_NETWORKS)),
        "REDIS_URL": env.redis_url(),
        # Saga steps made to fail on purpose, by name: a test switch (dev mode only).
        "SAGA_FAIL_STEPS": env.names("STREAMIFY_SAGA_FAIL_STEPS"),
    }


def static_root(service: str) -> Path:
    # Admin assets are served from the apps (WHITENOISE_USE_FINDERS); the folder only has to exist.
    path = var_dir() / "static" / service
    path.mkdir(parents=True, exist_ok=True)
    return path


def jwt_settings(signs_tokens: bool) -> dict:
    return {
        "ALGORITHM": "RS256",
        "SIGNING_KEY": keys.private_key() if signs_tokens else "",
        "VERIFYING_KEY": keys.public_key(),
        "ISSUER": "streamify-auth",
        "AUDIENCE": "streamify",
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ENV.int("JWT_ACCESS_MINUTES", default=15)),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=ENV.int("JWT_REFRESH_DAYS", default=7)),
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,
        "UPDATE_LAST_LOGIN": False,
        "AUTH_HEADER_TYPES": ("Bearer",),
        "USER_ID_FIELD": "id",
        "USER_ID_CLAIM": "user_id",
    }


def database(service: str) -> dict:
    """PostgreSQL `streamify_<service>` when its URL is set, else a WAL-mode SQLite file."""
    url = env.database_url(service)
    if url:
        # Health-checked only after sitting idle (common.pgbackend): a ping per request doubled
        # the round trips of a cheap read.
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["ENGINE"] = "common.pgbackend"
        # A suffix lets two runs of one project's suite share a server without clashing.
        suffix = ENV.str("STREAMIFY_TEST_DB_SUFFIX", default="")
        config["TEST"] = {"NAME": f"test_streamify_{service}{suffix}"}
        return config
    (var_dir() / "db").mkdir(exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": var_dir() / "db" / f"{service}.sqlite3",
        # Kept open, as on PostgreSQL: reopening makes SQLite redo its WAL set-up every time a
        # worker's periodic sweep runs.
        "CONN_MAX_AGE": 60,
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            # Writers queue up for the lock instead of failing when they upgrade a read.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }


def caches(service: str) -> dict:
    """`default` is shared by a service's processes (Redis, else files under var/); `ratelimit`
    is Redis too when there is one, else each process's memory: never a file per request."""
    redis_url = env.redis_url()
    if redis_url:
        shared = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
        counters = shared
    else:
        shared = {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(var_dir() / "cache"),
        }
        counters = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    return {
        "default": {**shared, "KEY_PREFIX": service},
        "ratelimit": {**counters, "KEY_PREFIX": f"{service}-ratelimit"},
    }


def celery_settings(service: str) -> dict:
    url = env.broker_url()
    options: dict = {}
    transport = None
    if url.startswith("filesystem"):
        transport = broker.TRANSPORT
        options = {
            **broker.folder_options(var_dir() / "broker"),
            # Busy consumers poll every 50 ms; idle ones slow down to 250 ms (common.broker).
            "polling_interval": ENV.float("STREAMIFY_FS_POLL_SECONDS", default=0.05),
            "max_polling_interval": ENV.float("STREAMIFY_FS_MAX_POLL_SECONDS", default=0.25),
        }
    elif url.startswith(("amqp", "pyamqp")):
        options = {"confirm_publish": True}
    return {
        "CELERY_BROKER_URL": url,
        "CELERY_BROKER_TRANSPORT": transport,
        "CELERY_BROKER_TRANSPORT_OPTIONS": options,
        "CELERY_BROKER_CONNECTION_TIMEOUT": 3,
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_BROKER_HEARTBEAT": 0,
        "CELERY_TASK_DEFAULT_QUEUE": service,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_RESULT_SERIALIZER": "json",
        "CELERY_TASK_IGNORE_RESULT": True,
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_WORKER_SEND_TASK_EVENTS": True,
        # Workers report each task received, started and done, which Flower shows; the
        # sender's extra "sent" event cost 8% of a registration saga's CPU (deploy.bench_http).
        "CELERY_TASK_SEND_SENT_EVENT": False,
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        # Celery would close the database connection around every task; common.workers
        # recycles connections the way Django does between requests instead.
        "CELERY_DB_REUSE_MAX": 2**31,
    }


def event_settings(service: str) -> dict:
    return {
        "EVENTS_SOURCE": f"/streamify/{service}",
        "EVENTS_MAX_RETRIES": ENV.int("STREAMIFY_EVENTS_MAX_RETRIES", default=5),
        "EVENTS_RETRY_BASE_SECONDS": ENV.float("STREAMIFY_EVENTS_RETRY_BASE", default=1.0),
        "EVENTS_RETRY_MAX_SECONDS": 300.0,
        "EVENTS_SWEEP_SECONDS": ENV.float("STREAMIFY_OUTBOX_SWEEP_SECONDS", default=2.0),
        # A payload that breaks its contract: refused where a developer sees it, logged elsewhere.
        "EVENTS_ENFORCE_CONTRACTS": env.flag("STREAMIFY_ENFORCE_CONTRACTS", env.dev_mode()),
    }
