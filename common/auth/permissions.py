from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from common.service_registry import SERVICES


class IsInternalService(BasePermission):
    """Only a service the view names in `service_callers`, holding the view's `service_scope`,
    may call: a scope says what a token is for, the route says who may use it.

    Both attributes are required; a view missing either, or naming a service the platform does
    not have, is a programming error and refuses every call.
    """

    message = "This endpoint accepts only service credentials with the required scope"

    def has_permission(self, request, view):
        principal = request.user
        if not getattr(principal, "is_service", False):
            return False
        callers = getattr(view, "service_callers", None)
        scope = getattr(view, "service_scope", None)
        if not callers or not scope or not set(callers) <= set(SERVICES):
            raise ImproperlyConfigured(
                f"{type(view).__name__} must name `service_scope` and `service_callers` "
                f"(a set of {', '.join(SERVICES)})"
            )
        if principal.name not in callers:
            raise PermissionDenied(f"This endpoint does not accept calls from {principal.name}")
        if not principal.has_scope(scope):
            raise PermissionDenied(f"The service token lacks the scope {scope}")
        return True


class IsStaffUser(BasePermission):
    message = "Staff only"

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_staff", False))
