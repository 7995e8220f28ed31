"""Auth's own view of a bearer token: the common local check, then this service's database."""

from accounts.selectors import user_get_active
from common.auth.authentication import TokenRejected, UserTokenAuthentication


class ActiveUserTokenAuthentication(UserTokenAuthentication):
    """As every service checks a token, plus: its user still exists and is active.

    `request.user` is the `accounts.User` row, so views can read and change it.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        token_user, validated = result
        user = user_get_active(user_id=token_user.id)
        if user is None:
            raise TokenRejected("Invalid token: the user no longer exists or is inactive")
        return user, validated
