from pathlib import Path

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

# Auth takes small JSON bodies only; anything larger is refused with 413 before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024

# `manage.py run_grpc_server` serves the servicers of this module.
GRPC_SERVICERS = "accounts.grpc"
