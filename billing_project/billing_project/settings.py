import os
from pathlib import Path

from common.settings import service_settings

globals().update(
    service_settings(
        "billing",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["wallets"],
    )
)

# Upper bound of one deposit, in cents ($10,000 by default).
BILLING_MAX_DEPOSIT = int(os.environ.get("BILLING_MAX_DEPOSIT", "1000000"))
