from itertools import count

from wallets import services

_user_ids = count(1000)


def new_user_id() -> int:
    return next(_user_ids)


def funded_user(amount: int) -> int:
    """A fresh user whose wallet holds `amount` cents (0: an empty wallet)."""
    user_id = new_user_id()
    services.wallet_create(user_id=user_id)
    if amount:
        services.deposit_create(user_id=user_id, amount=amount)
    return user_id
