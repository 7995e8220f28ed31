from rest_framework.permissions import BasePermission


class IsInternalService(BasePermission):
    """Only another service, holding the scope the view names in `service_scope`, may call."""

    message = "This endpoint accepts only service credentials with the required scope"

    def has_permission(self, request, view):
        principal = request.user
        if not getattr(principal, "is_service", False):
            return False
        scope = getattr(view, "service_scope", None)
        return scope is None or principal.has_scope(scope)


class IsStaffUser(BasePermission):
    message = "Staff only"

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_staff", False))
