"""Reads of the saga log, shaped as the seed's response."""

from registration.models import Saga, SagaStep
from registration.services import FORWARD


def saga_get(*, saga_id) -> Saga | None:
    return Saga.objects.prefetch_related("steps").filter(id=saga_id).first()


def saga_state(saga: Saga) -> dict:
    """Which forward steps hold now (done and not undone), the user's id once known, and the
    steps that failed, as `{step, error}`."""
    rows = list(saga.steps.all())
    done = {row.name for row in rows if row.status == SagaStep.Status.SUCCEEDED}
    held = {step.name: step.name in done and step.undo not in done for step in FORWARD}
    return {
        "userCreated": held["create_user"],
        "walletCreated": held["create_wallet"],
        "analyticsCreated": held["create_profile"],
        "userId": (saga.user or {}).get("userId"),
        "errors": [{"step": row.name, "error": row.error} for row in rows if row.error],
    }


def saga_document(saga: Saga) -> dict:
    user = saga.user or {}
    completed = saga.status == Saga.Status.COMPLETED
    return {
        "success": completed,
        "sagaId": str(saga.id),
        "status": saga.status,
        "message": _message(saga),
        "user": {
            "id": user.get("userId"),
            "email": user.get("email", saga.email),
            "firstName": user.get("firstName", saga.first_name),
            "lastName": user.get("lastName", saga.last_name),
        }
        if completed
        else None,
        "sagaState": saga_state(saga),
        "error": saga.error or None,
        "steps": [
            {
                "name": row.name,
                "status": row.status,
                "attempts": row.attempts,
                "error": row.error or None,
                "sentAt": row.sent_at.isoformat(),
                "finishedAt": row.finished_at.isoformat() if row.finished_at else None,
            }
            for row in saga.steps.all()
        ],
        "createdAt": saga.created_at.isoformat(),
        "finishedAt": saga.finished_at.isoformat() if saga.finished_at else None,
    }


def _message(saga: Saga) -> str:
    return {
        Saga.Status.COMPLETED: "User registered successfully with wallet and analytics profile",
        Saga.Status.RUNNING: "Registration in progress",
        Saga.Status.COMPENSATING: "Registration failed; undoing completed steps",
        Saga.Status.FAILED: "Registration failed; every completed step was undone",
        Saga.Status.STUCK: "Registration failed and could not be fully undone: operator needed",
    }[saga.status]
