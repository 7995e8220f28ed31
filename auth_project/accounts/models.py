import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A viewer or operator of the platform, identified by a case-insensitively unique email."""

    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=50)
    last_name = models.CharField(max_length=50)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique")
        ]

    def __str__(self):
        return self.email


class SagaUserCreation(models.Model):
    """Which user a registration saga created: makes the step idempotent, scopes its undo."""

    saga_id = models.CharField(max_length=64, primary_key=True)
    # Not a foreign key: the record outlives the user it undoes.
    user_id = models.BigIntegerField(db_index=True)
    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)
    compensated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"saga {self.saga_id} -> user {self.user_id}"


class PendingCredential(models.Model):
    """A registration saga's password, hashed, held until the saga's create_user step takes it.

    The gateway hands the password over once (internal REST); the saga's messages carry only
    `ref`. A credential serves one saga, is deleted when its user is created or its email is
    taken, and one nobody took is purged once it expires.
    """

    ref = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    saga_id = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"credential {self.ref} for saga {self.saga_id}"
