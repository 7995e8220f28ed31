"""Request parsing for the REST API and saga steps: strict types, bounded sizes, no extra keys."""

from rest_framework import serializers

from common.payloads import StrictCharField, StrictSerializer

PASSWORD_MIN, PASSWORD_MAX = 8, 64
NAME_MIN, NAME_MAX = 2, 50
EMAIL_MAX = 254
TOKEN_MAX = 4096


class StrictEmailField(StrictCharField, serializers.EmailField):
    def to_internal_value(self, data):
        return super().to_internal_value(data).strip().lower()


def name_field(**options) -> StrictCharField:
    return StrictCharField(min_length=NAME_MIN, max_length=NAME_MAX, **options)


def password_field() -> StrictCharField:
    return StrictCharField(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX, trim_whitespace=False)


class RegisterSerializer(StrictSerializer):
    email = StrictEmailField(max_length=EMAIL_MAX)
    password = password_field()
    firstName = name_field()
    lastName = name_field()


class LoginSerializer(StrictSerializer):
    # Length-bounded but not format-checked: a login must not reveal which rule an input broke.
    email = StrictCharField(max_length=EMAIL_MAX)
    password = StrictCharField(max_length=PASSWORD_MAX * 4, trim_whitespace=False)


class RefreshTokenSerializer(StrictSerializer):
    refreshToken = StrictCharField(max_length=TOKEN_MAX)


class ProfileUpdateSerializer(StrictSerializer):
    firstName = name_field(required=False)
    lastName = name_field(required=False)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Give at least one of firstName, lastName.")
        return attrs


class StrictUUIDField(serializers.UUIDField):
    """A UUID written as a string: DRF would otherwise take the integer 1 as a UUID."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class PendingCredentialSerializer(StrictSerializer):
    sagaId = StrictCharField(max_length=64)
    password = password_field()


class SagaCreateUserSerializer(StrictSerializer):
    saga_id = StrictCharField(max_length=64)
    email = StrictEmailField(max_length=EMAIL_MAX)
    credential_ref = StrictUUIDField()
    first_name = name_field()
    last_name = name_field()
