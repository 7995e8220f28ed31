"""The base of every internal route: only another service may call it."""

from rest_framework.views import APIView

from common.auth.authentication import ServiceTokenAuthentication
from common.auth.permissions import IsInternalService


class InternalView(APIView):
    """A route for services, never users: a service token from one of `service_callers`,
    carrying `service_scope` (both named by the subclass)."""

    authentication_classes = [ServiceTokenAuthentication]
    permission_classes = [IsInternalService]
