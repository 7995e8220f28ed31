"""Every event type the billing service consumes, and the handler that applies it."""

HANDLERS: dict[str, str] = {
    "user.deleted": "wallets.events.handle_user_deleted",
}
