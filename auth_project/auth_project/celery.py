from common.workers import create_app, periodic_step

app = create_app("auth")
app.steps["worker"].add(
    periodic_step(
        "accounts.services.pending_credential_purge", "AUTH_PENDING_CREDENTIAL_PURGE_SECONDS"
    )
)
