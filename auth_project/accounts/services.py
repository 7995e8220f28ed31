"""Writes of the auth service: accounts, logins and tokens. Every change that other services care
about publishes its event through the outbox in the same transaction."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import PendingCredential, SagaUserCreation, User
from accounts.tokens import TokenPair, token_pair_for
from common.errors import DomainError
from common.events import publish


class EmailTaken(DomainError):
    """Another account already uses this email (compared case-insensitively)."""

    status, message = 409, "Email already registered"

    def __init__(self, email: str):
        super().__init__(f"email already registered: {email}")
        self.email = email


class InvalidCredentials(DomainError):
    """Unknown email, wrong password or inactive account: deliberately indistinguishable."""

    status, message = 401, "Invalid email or password"


class InvalidRefreshToken(DomainError):
    """The refresh token is forged, expired, revoked, already rotated, or its user is gone."""

    status = 401

    @property
    def message(self) -> str:
        return f"Invalid refresh token: {self}"


class SagaAlreadyCompensated(Exception):
    """The saga's user was created and then undone: a late retry must not bring it back."""


class CredentialAlreadyStaged(DomainError):
    """This saga already handed over its password: a saga stages exactly one credential."""

    status, message = 409, "This saga already handed over its password"


class CredentialUnavailable(Exception):
    """No pending credential for this saga under this reference: never staged, expired, taken."""


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


def pending_credential_stage(*, saga_id: str, password: str) -> PendingCredential:
    """Hash the password of registration saga `saga_id` and hold it for a short while.

    Only the returned credential's `ref` travels with the saga: no password or hash ever goes
    through the broker. One credential per saga; it expires after
    AUTH_PENDING_CREDENTIAL_SECONDS.
    """
    password_hash = make_password(password)
    expires_at = timezone.now() + timedelta(seconds=settings.AUTH_PENDING_CREDENTIAL_SECONDS)
    try:
        with transaction.atomic():
            return PendingCredential.objects.create(
                saga_id=saga_id, password_hash=password_hash, expires_at=expires_at
            )
    except IntegrityError as exc:
        raise CredentialAlreadyStaged(saga_id) from exc


def pending_credential_purge() -> int:
    """Delete expired pending credentials, so no hash outlives a saga that never took it."""
    deleted, _ = PendingCredential.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def user_create_for_saga(
    *, saga_id: str, email: str, credential_ref: uuid.UUID, first_name: str, last_name: str
) -> User:
    """Create the user of registration saga `saga_id` once; a repeated step returns that user.

    The password comes from the saga's pending credential, which the creation consumes in the
    same transaction. A taken email discards the credential too: that saga ends there.
    """
    user = _saga_user(saga_id)
    if user is not None:
        return user
    try:
        with transaction.atomic():
            pending = (
                PendingCredential.objects.select_for_update()
                .filter(ref=credential_ref, saga_id=saga_id, expires_at__gt=timezone.now())
                .first()
            )
            if pending is None:
                raise CredentialUnavailable(f"no pending credential for saga {saga_id}")
            user = _user_create(
                email=email,
                password_hash=pending.password_hash,
                first_name=first_name,
                last_name=last_name,
            )
            SagaUserCreation.objects.create(saga_id=saga_id, user_id=user.id, email=user.email)
            pending.delete()
    except EmailTaken:
        PendingCredential.objects.filter(ref=credential_ref, saga_id=saga_id).delete()
        raise
    except CredentialUnavailable:
        # A concurrent run of this very step may have taken the credential a moment ago.
        user = _saga_user(saga_id)
        if user is None:
            raise
    return user


def _saga_user(saga_id: str) -> User | None:
    done = SagaUserCreation.objects.filter(saga_id=saga_id).first()
    if done is None:
        return None
    user = User.objects.filter(id=done.user_id).first()
    if user is None:
        raise SagaAlreadyCompensated(f"saga {saga_id} already undid user {done.user_id}")
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

    An unknown email is verified against a hash of the configured hasher, so it costs what a
    wrong password costs and the response time does not reveal whether the email has an
    account. A correct password stored by an older hasher or with older parameters (PBKDF2)
    is rehashed with the configured one on the spot (Django's check_password setter); until
    then a wrong password on such an account costs the old hasher's time, as in Django.
    """
    user = User.objects.filter(email=email.strip().lower()).first()
    if user is None:
        check_password(password, _dummy_password_hash())
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    return user


_dummy_hashes: dict[type, str] = {}


def _dummy_password_hash() -> str:
    """A hash of a random password by the configured hasher, made once per process and hasher."""
    hasher = type(get_hasher())
    if hasher not in _dummy_hashes:
        _dummy_hashes[hasher] = make_password(get_random_string(32))
    return _dummy_hashes[hasher]


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
