"""`/graphql`: graphene-django's view (GraphiQL in a browser) with per-request loaders.

A request that is not a GraphQL request (body not a JSON object, `query` not a string,
`variables` not an object, ...) is a 400 `{"error", "details", "errors"}`: the platform's error
shape, plus `errors` for GraphQL clients. A document is checked whole by `graph.validation`
before execution; a refused one is a 400 of the same shape and makes no upstream call.
"""

from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, execute

from common.auth.authentication import token_user
from common.errors import error_body
from common.payloads import MalformedBody, loads
from graph.client import Upstreams
from graph.dataloaders import Loaders
from graph.validation import document_check


class MalformedRequest(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field

    def response(self) -> JsonResponse:
        body = error_body(self.message, [{"field": self.field, "message": self.message}])
        body["errors"] = [{"message": self.message, "extensions": {"code": "BAD_REQUEST"}}]
        return JsonResponse(body, status=400)


def _json(raw: bytes | str, field: str | None):
    try:
        return loads(raw)
    except MalformedBody as exc:
        raise MalformedRequest(str(exc), field) from exc


@method_decorator(csrf_exempt, name="dispatch")
class StreamifyGraphQLView(GraphQLView):
    graphiql = True
    # graphene-django's page loads GraphiQL from a CDN; this one from the gateway itself.
    graphiql_template = "webui/graphiql.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except MalformedRequest as exc:
            return exc.response()

    def parse_body(self, request):
        content_type = self.get_content_type(request)
        if content_type == "application/json":
            body = _json(request.body, None)
            if not isinstance(body, dict):
                raise MalformedRequest("The body must be a JSON object with a `query`")
            return body
        if content_type == "application/graphql":
            try:
                return {"query": request.body.decode("utf-8")}
            except UnicodeDecodeError as exc:
                raise MalformedRequest("The body must be UTF-8 text") from exc
        return super().parse_body(request)

    @staticmethod
    def get_graphql_params(request, data):
        query = request.GET.get("query") or data.get("query")
        variables = request.GET.get("variables") or data.get("variables")
        operation_name = request.GET.get("operationName") or data.get("operationName")
        if isinstance(variables, str):
            variables = _json(variables, "variables")
        if query is not None and not isinstance(query, str):
            raise MalformedRequest("`query` must be a string", "query")
        if variables is not None and not isinstance(variables, dict):
            raise MalformedRequest("`variables` must be an object", "variables")
        if operation_name is not None and not isinstance(operation_name, str):
            raise MalformedRequest("`operationName` must be a string", "operationName")
        return query, variables, operation_name, None

    def execute_graphql_request(
        self, request, data, query, variables, operation_name, show_graphiql=False
    ):
        # GraphiQL's own page never gets here: graphene-django renders it before executing.
        if not query:
            raise MalformedRequest("Send a GraphQL document in `query`", "query")
        schema = self.schema.graphql_schema
        checked = document_check(
            schema=schema, query=query, variables=variables, operation_name=operation_name
        )
        if checked.errors:
            return ExecutionResult(data=None, errors=checked.errors)
        if request.method == "GET" and not checked.is_query:
            raise HttpError(HttpResponseNotAllowed(["POST"], "Send mutations with POST"))
        return execute(
            schema,
            checked.document,
            root_value=self.get_root_value(request),
            context_value=self.get_context(request, budget=checked.upstream_calls),
            variable_values=variables,
            operation_name=operation_name,
            middleware=self.get_middleware(request),
        )

    def json_encode(self, request, d, pretty=False):
        if "errors" in d and "data" not in d:
            # Refused before execution: the platform's error shape beside GraphQL's own.
            messages = [error.get("message", "") for error in d["errors"]]
            d = {
                "error": messages[0] if messages else "Bad request",
                "details": [{"field": None, "message": m} for m in messages],
                **d,
            }
        return super().json_encode(request, d, pretty)

    def get_context(self, request, *, budget: int = 0):
        authorization = request.headers.get("Authorization")
        request.user_id = None
        if authorization:
            user = token_user(request)
            # A forged or expired token counts as none: resolvers answer UNAUTHENTICATED.
            if user is None:
                authorization = None
            else:
                request.user_id = int(user.id)
        request.upstreams = Upstreams(authorization, budget=budget)
        request.loaders = Loaders(request.upstreams)
        return request
