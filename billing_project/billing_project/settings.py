from pathlib import Path

from common.env import ENV
from common.settings import service_settings

globals().update(
    service_settings(
        "billing",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["wallets"],
    )
)

# Upper bound of one deposit, in cents ($10,000 by default).
BILLING_MAX_DEPOSIT = ENV.int("BILLING_MAX_DEPOSIT", default=1000000)
