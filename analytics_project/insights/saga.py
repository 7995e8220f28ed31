"""Registration saga steps run by the analytics worker on `analytics.commands`."""

from common.saga import saga_step
from insights import commands


@saga_step("analytics.saga.create_profile")
def create_profile(*, saga_id: str, user_id: int, email: str) -> dict:
    """Give the new user a viewer profile; the same saga id creates it once."""
    commands.profile_create(saga_id=saga_id, user_id=user_id, email=email)
    return {"analyticsCreated": True}


@saga_step("analytics.saga.delete_profile")
def delete_profile(*, saga_id: str, user_id: int) -> dict:
    """Compensation: deactivate the profile; report whether there was one."""
    return {"deleted": commands.profile_delete(saga_id=saga_id, user_id=user_id)}
