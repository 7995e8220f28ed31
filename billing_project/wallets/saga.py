"""Billing's steps of the registration saga (run by billing's worker on `billing.commands`)."""

from common.saga import saga_step
from wallets import services


@saga_step("billing.saga.create_wallet")
def create_wallet(*, saga_id: str, user_id: int) -> dict:
    """Ensure the user has a wallet (the only place one is opened for a new user); a retried
    step finds the one it made."""
    services.wallet_create(user_id=user_id)
    return {"walletCreated": True}


@saga_step("billing.saga.delete_wallet")
def delete_wallet(*, saga_id: str, user_id: int) -> dict:
    """Compensate: remove the user's wallet unless it already holds money (then keep it)."""
    try:
        deleted = services.wallet_delete(user_id=user_id)
    except services.WalletNotEmpty:
        deleted = False
    return {"deleted": deleted}
