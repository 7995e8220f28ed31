from pathlib import Path

from common.env import ENV
from common.settings import service_settings

globals().update(
    service_settings(
        "auth",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["rest_framework_simplejwt.token_blacklist", "accounts"],
        signs_tokens=True,
    )
)

AUTH_USER_MODEL = "accounts.User"

# New passwords get Argon2id (see accounts.hashers for the parameters and why); PBKDF2 hashes
# stored before it are still verified and replaced by Argon2id at their next successful login.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# Auth takes small JSON bodies only; anything larger is refused with 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024

# `manage.py run_grpc_server` serves the servicers of this module.
GRPC_SERVICERS = "accounts.grpc"

# Registration saga: how long a password handed over by the gateway waits for the saga's
# create_user step (well past the gateway's resends: SAGA_STEP_TIMEOUT_SECONDS x
# SAGA_MAX_ATTEMPTS), and how often the worker purges the ones no step took.
AUTH_PENDING_CREDENTIAL_SECONDS = ENV.float("AUTH_PENDING_CREDENTIAL_SECONDS", default=600.0)
AUTH_PENDING_CREDENTIAL_PURGE_SECONDS = ENV.float(
    "AUTH_PENDING_CREDENTIAL_PURGE_SECONDS", default=60.0
)
