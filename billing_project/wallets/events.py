import contextlib

from common.events.consumer import Event
from wallets.services import WalletNotEmpty, wallet_delete


def _user_id(event: Event) -> int:
    user_id = event.data.get("userId")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        raise ValueError(f"{event.type} without a valid userId: {user_id!r}")
    return user_id


def handle_user_deleted(event: Event) -> None:
    """Close the wallet of a deleted user if it never held money; a funded one stays on record."""
    with contextlib.suppress(WalletNotEmpty):
        wallet_delete(user_id=_user_id(event))
