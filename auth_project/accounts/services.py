"""Writes of the auth service: accounts, logins and tokens. Every change that other services care
about publishes its event through the outbox in the same transaction."""

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import SagaUserCreation, User
from accounts.tokens import TokenPair, token_pair_for
from common.events import publish


class EmailTaken(Exception):
    """Another account already uses this email (compared case-insensitively)."""

    def __init__(self, email: str):
        super().__init__(f"email already registered: {email}")
        self.email = email


class InvalidCredentials(Exception):
    """Unknown email, wrong password or inactive account: deliberately indistinguishable."""


class InvalidRefreshToken(Exception):
    """The refresh token is forged, expired, revoked, already rotated, or its user is gone."""


class SagaAlreadyCompensated(Exception):
    """The saga's user was created and then undone: a late retry must not bring it back."""


def user_register(*, email: str, password: str, first_name: str, last_name: str) -> User:
    """Create the account and emit `user.registered` in one transaction; one account per email."""
    return _user_create(
        email=email,
        password_hash=make_password(password),
        first_name=first_name,
        last_name=last_name,
    )


def user_ensure(*, email: str, password: str, first_name: str, last_name: str) -> User:
    """Return the account with this email, registering it (with its event) if it is missing."""
    existing = User.objects.filter(email=email.strip().lower()).first()
    if existing is not None:
        return existing
    try:
        return user_register(
            email=email, password=password, first_name=first_name, last_name=last_name
        )
    except EmailTaken:
        return User.objects.get(email=email.strip().lower())


def _user_create(*, email: str, password_hash: str, first_name: str, last_name: str) -> User:
    email = email.strip().lower()
    try:
        with transaction.atomic():
            user = User(
                email=email, password=password_hash, first_name=first_name, last_name=last_name
            )
            user.save()
            publish("user.registered", user_event_data(user))
    except IntegrityError as exc:
        # Both the column and the lower(email) index are unique: the database settles races.
        raise EmailTaken(email) from exc
    return user


def user_create_for_saga(
    *, saga_id: str, email: str, password_hash: str, first_name: str, last_name: str
) -> User:
    """Create the user of registration saga `saga_id` once; a repeated step returns that user.

    The password arrives hashed by the gateway, so no plaintext ever crosses the broker.
    """
    done = SagaUserCreation.objects.filter(saga_id=saga_id).first()
    if done is not None:
        user = User.objects.filter(id=done.user_id).first()
        if user is None:
            raise SagaAlreadyCompensated(f"saga {saga_id} already undid user {done.user_id}")
        return user
    with transaction.atomic():
        user = _user_create(
            email=email, password_hash=password_hash, first_name=first_name, last_name=last_name
        )
        SagaUserCreation.objects.create(saga_id=saga_id, user_id=user.id, email=user.email)
    return user


def user_delete_for_saga(*, saga_id: str, user_id: int) -> bool:
    """Undo the user that saga `saga_id` created, and nothing else; False if nothing to undo."""
    with transaction.atomic():
        done = (
            SagaUserCreation.objects.select_for_update()
            .filter(saga_id=saga_id, user_id=user_id)
            .first()
        )
        if done is None:
            return False
        deleted = user_delete(user_id=user_id)
        if done.compensated_at is None:
            done.compensated_at = timezone.now()
            done.save(update_fields=["compensated_at"])
    return deleted


def user_delete(*, user_id: int) -> bool:
    """Delete the account and emit `user.deleted` once; False (and no event) if already gone."""
    if not 0 < user_id < 2**63:
        return False
    with transaction.atomic():
        user = User.objects.select_for_update().filter(id=user_id).first()
        if user is None:
            return False
        data = {"userId": user.id, "email": user.email}
        user.delete()
        publish("user.deleted", data)
    return True


def user_authenticate(*, email: str, password: str) -> User:
    """Return the active user with these credentials or raise InvalidCredentials.

    Every path runs exactly one password hash of the configured cost, so response time does
    not reveal whether the email has an account.
    """
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        make_password(password)
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    return user


def user_login(*, email: str, password: str) -> TokenPair:
    """Issue a token pair for valid credentials and emit `user.logged_in`."""
    user = user_authenticate(email=email, password=password)
    with transaction.atomic():
        pair = token_pair_for(user)
        now = timezone.now()
        User.objects.filter(id=user.id).update(last_login=now)
        publish("user.logged_in", {"userId": user.id, "at": now.isoformat()})
    return pair


def token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: revoke this refresh token and issue a new pair; a token can be used only once.

    The outstanding row is locked, so two concurrent refreshes with one token yield one pair.
    """
    refresh = _valid_refresh(refresh_token)
    user = User.objects.filter(id=refresh[jwt_settings.USER_ID_CLAIM], is_active=True).first()
    if user is None:
        raise InvalidRefreshToken("the user no longer exists or is inactive")
    with transaction.atomic():
        _revoke_locked(refresh)
        return token_pair_for(user)


def token_revoke(*, refresh_token: str) -> None:
    """Log out: revoke the refresh token so it can no longer be refreshed."""
    refresh = _valid_refresh(refresh_token)
    with transaction.atomic():
        _revoke_locked(refresh)


def _valid_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise InvalidRefreshToken(str(exc)) from exc


def _revoke_locked(refresh: RefreshToken) -> None:
    # simplejwt orders outstanding tokens by user (an outer join FOR UPDATE cannot lock).
    outstanding = (
        OutstandingToken.objects.select_for_update()
        .filter(jti=refresh[jwt_settings.JTI_CLAIM])
        .order_by("pk")
        .first()
    )
    if outstanding is None:
        raise InvalidRefreshToken("token was not issued by this service")
    _, created = BlacklistedToken.objects.get_or_create(token=outstanding)
    if not created:
        raise InvalidRefreshToken("Token is blacklisted")


def user_update_profile(
    *, user: User, first_name: str | None = None, last_name: str | None = None
) -> User:
    """Change the names shown on the profile; the email (the account's identity) stays."""
    changed = []
    if first_name is not None:
        user.first_name = first_name
        changed.append("first_name")
    if last_name is not None:
        user.last_name = last_name
        changed.append("last_name")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


def user_admin_save(*, user: User, created: bool) -> None:
    """Save a user edited in the admin; a new one is announced like a registration."""
    with transaction.atomic():
        user.email = user.email.strip().lower()
        user.save()
        if created:
            publish("user.registered", user_event_data(user))


def user_event_data(user: User) -> dict:
    return {
        "userId": user.id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
    }
