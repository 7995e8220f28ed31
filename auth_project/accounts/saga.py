"""Auth's steps of the registration saga (run by the auth worker on `auth.commands`)."""

from rest_framework.exceptions import ValidationError

from accounts import services
from accounts.serializers import SagaCreateUserSerializer
from common.errors import flatten_details
from common.payloads import parsed
from common.saga import StepRejected, saga_step


@saga_step("auth.saga.create_user")
def create_user(
    *, saga_id: str, email: str, credential_ref: str, first_name: str, last_name: str
) -> dict:
    """Create the saga's user once (idempotent by saga_id) with the password the gateway handed
    over for it (`credential_ref`); a taken email or a missing credential is a rejection."""
    fields = {
        "saga_id": saga_id,
        "email": email,
        "credential_ref": credential_ref,
        "first_name": first_name,
        "last_name": last_name,
    }
    try:
        data = parsed(SagaCreateUserSerializer, fields)
    except ValidationError as exc:
        raise StepRejected("invalid", f"invalid user data: {flatten_details(exc.detail)}") from exc
    try:
        user = services.user_create_for_saga(**data)
    except services.EmailTaken as exc:
        raise StepRejected("email_taken", f"email already registered: {exc.email}") from exc
    except services.CredentialUnavailable as exc:
        raise StepRejected("credential_unavailable", str(exc)) from exc
    return {
        "userId": user.id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
    }


@saga_step("auth.saga.delete_user")
def delete_user(*, saga_id: str, user_id: int) -> dict:
    """Undo create_user of this saga (only the user it created); repeatable."""
    return {"deleted": services.user_delete_for_saga(saga_id=str(saga_id), user_id=int(user_id))}
