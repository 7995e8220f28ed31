"""`/graphql`: graphene-django's view (GraphiQL in a browser) with per-request loaders."""

from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView
from graphql import specified_rules
from rest_framework.exceptions import APIException

from common.auth.authentication import UserTokenAuthentication
from graph.client import Upstreams
from graph.dataloaders import Loaders
from graph.validation import QueryLimitsRule


class _TokenCheck:
    """Just enough of a DRF request for UserTokenAuthentication: it reads META only."""

    def __init__(self, request):
        self.META = request.META
        self._request = request


@method_decorator(csrf_exempt, name="dispatch")
class StreamifyGraphQLView(GraphQLView):
    graphiql = True
    # graphene-django uses these instead of graphql's rules, so the standard ones come first.
    validation_rules = (*specified_rules, QueryLimitsRule)

    def get_context(self, request):
        authorization = request.headers.get("Authorization")
        request.user_id = None
        if authorization:
            try:
                result = UserTokenAuthentication().authenticate(_TokenCheck(request))
            except APIException:
                result = None
            # A forged or expired token counts as none: resolvers answer UNAUTHENTICATED.
            if result is None:
                authorization = None
            else:
                request.user_id = int(result[0].id)
        request.upstreams = Upstreams(authorization)
        request.loaders = Loaders(request.upstreams)
        return request
