"""What one GraphQL document may ask for, checked whole before its first upstream call.

`document_check` parses the document (at most GRAPHQL_MAX_TOKENS tokens), runs GraphQL's own
validation, coerces the variables, then walks the operation once as execution will see it
(fragments expanded, aliases kept apart, @skip/@include applied, variables resolved) to:

- check the arguments that reach an upstream (`ARGUMENT_RULES`): ids positive, limits in
  range, session ids UUIDs. A bad one is a BAD_USER_INPUT error and nothing is called;
- bound the depth (GRAPHQL_MAX_DEPTH levels of fields);
- bound the fields resolved (GRAPHQL_MAX_COMPLEXITY), each counted once per item of the lists
  above it, a list counting as its `limit`;
- count the upstream calls in the worst case (GRAPHQL_MAX_UPSTREAM_CALLS), with the batching
  the resolvers and `graph.dataloaders` really do:
  * `videos`, `activeStreams`, `platformStats`, `userBalance` and each mutation: one call;
  * `revenueByVideo` under `platformStats`: one call more;
  * `video(id)`: one call per distinct id (the loader never asks twice for one);
  * `videoStats(videoId)`, and `stats` under `video(id)` or `startStream`: one call per
    distinct video id;
  * `stats` under the items of `videos` or `activeStreams`: one call per list (the list
    announces its ids, at most 100, and analytics answers 100 at once);
  * `stats` under `endStream`: one call (the video is known only from the answer);
  * a stream session's `video`: no call (the session carries it).
  Fields merged by GraphQL (the same alias and arguments twice) count once, as they run once.

A document over a limit is refused whole: HTTP 400, an error with `extensions.code`, no call.
The count is also the budget `graph.client.Upstreams` enforces while the document runs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    SchemaMetaFieldDef,
    TypeMetaFieldDef,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.collect_fields import collect_fields, collect_sub_fields
from graphql.execution.values import get_argument_values, get_variable_values

from graph.client import session_name

MAX_ID = 2**31 - 1  # GraphQL's Int; the parser already refuses anything wider
META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


def _positive_id(value) -> str | None:
    return None if 1 <= value <= MAX_ID else "must be a positive integer"


def _between(low: int, high: int) -> Callable:
    def rule(value) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"

    return rule


def _at_least_one(value) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _session_id(value: str) -> str | None:
    """A session's UUID, or its number (what the original system's clients hold)."""
    name = session_name(value)
    if name is None or (isinstance(name, int) and _positive_id(name)):
        return "must be a session UUID or a positive number"
    return None


# (type, field) -> {argument: rule}; a rule answers why a value is refused, or None.
ARGUMENT_RULES: dict[tuple[str, str], dict[str, Callable]] = {
    ("Query", "videos"): {"page": _at_least_one, "limit": _between(1, 100)},
    ("Query", "video"): {"id": _positive_id},
    ("Query", "videoStats"): {"videoId": _positive_id},
    ("Query", "activeStreams"): {"limit": _between(1, 100)},
    ("RevenueStats", "revenueByVideo"): {"limit": _between(1, 100)},
    ("Mutation", "startStream"): {"videoId": _positive_id},
    ("Mutation", "endStream"): {"sessionId": _session_id},
}


@dataclass(frozen=True)
class CheckedDocument:
    """A document ready to execute (`errors` empty) or refused (`errors` say why)."""

    document: DocumentNode | None = None
    operation: OperationDefinitionNode | None = None
    upstream_calls: int = 0
    errors: list[GraphQLError] = field(default_factory=list)

    @property
    def is_query(self) -> bool:
        """False for mutations, which only POST may carry."""
        return self.operation is None or self.operation.operation == OperationType.QUERY


def document_check(
    *, schema: GraphQLSchema, query: str, variables: dict | None, operation_name: str | None
) -> CheckedDocument:
    """Parse, validate and measure a document; refuse it whole if it breaks any limit."""
    try:
        document = parse(
            query,
            max_lexical_tokens=settings.GRAPHQL_MAX_TOKENS,
            max_comments=settings.GRAPHQL_MAX_TOKENS,
        )
    except GraphQLError as error:
        return CheckedDocument(errors=[error])
    errors = validate(schema, document, specified_rules)
    if errors:
        return CheckedDocument(errors=errors)
    operation = get_operation_ast(document, operation_name)
    root_type = operation and schema.get_root_type(operation.operation)
    if root_type is None:
        # Execution names the missing operation and makes no call.
        return CheckedDocument(document=document, operation=operation)
    coerced = get_variable_values(
        schema, operation.variable_definitions or (), variables or {}, max_errors=10
    )
    if isinstance(coerced, list):
        return CheckedDocument(errors=[_user_input(error) for error in coerced])
    walk = _Walk(schema, document, coerced)
    try:
        walk.fields(root_type, walk.root(root_type, operation), depth=1, size=1, scope=_Scope())
    except _TooComplex:
        return CheckedDocument(errors=[_too_complex(operation)])
    errors = walk.errors or _over_limits(operation, walk)
    return CheckedDocument(
        document=document,
        operation=operation,
        upstream_calls=walk.upstream_calls(),
        errors=errors,
    )


@dataclass(frozen=True)
class _Scope:
    """How a `stats` below is fetched: with a list's batch, by a known video id, or alone."""

    batch: int | None = None
    video_id: int | None = None
    list_size: int = 1


class _TooComplex(Exception):
    pass


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict):
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.errors: list[GraphQLError] = []
        self.resolved = 0
        self.too_deep = False
        self.calls = 0
        self.video_ids: set[int] = set()
        self.stats_ids: set[int] = set()
        self.batches: set[int] = set()  # ids of the nodes whose stats come in one call

    def upstream_calls(self) -> int:
        return self.calls + len(self.video_ids) + len(self.stats_ids) + len(self.batches)

    def root(self, root_type: GraphQLObjectType, operation) -> dict[str, list[FieldNode]]:
        return collect_fields(
            self.schema, self.fragments, self.variables, root_type, operation.selection_set
        )

    def fields(self, parent: GraphQLObjectType, fields: dict, *, depth: int, size: int, scope):
        if depth > settings.GRAPHQL_MAX_DEPTH:
            self.too_deep = True
            return
        for nodes in fields.values():
            name = nodes[0].name.value
            self._resolve(size)
            if name in META_FIELDS:
                self._introspection(nodes, META_FIELDS[name])
            if name.startswith("__"):
                continue
            definition = parent.fields[name]
            arguments = self._arguments(definition, nodes[0])
            if not self._arguments_valid(parent.name, name, arguments, nodes[0]):
                continue
            inner = self._count(parent.name, name, arguments, scope, nodes[0])
            returns = get_named_type(definition.type)
            if isinstance(returns, GraphQLObjectType):
                items = size
                if isinstance(get_nullable_type(definition.type), GraphQLList):
                    items *= _list_size(parent.name, name, inner)
                sub = collect_sub_fields(
                    self.schema, self.fragments, self.variables, returns, nodes
                )
                self.fields(returns, sub, depth=depth + 1, size=items, scope=inner)

    def _introspection(self, nodes: list[FieldNode], definition: GraphQLField) -> None:
        """Count what an introspection field selects. It makes no call and has no depth limit
        (GraphiQL's own query is a dozen levels deep); graphql's MaxIntrospectionDepthRule
        already cuts the __Type.fields -> __Field.type cycles, and aliases count here."""
        returns = get_named_type(definition.type)
        if not isinstance(returns, GraphQLObjectType):
            return
        sub = collect_sub_fields(self.schema, self.fragments, self.variables, returns, nodes)
        for sub_nodes in sub.values():
            self._resolve(1)
            name = sub_nodes[0].name.value
            if name != "__typename":
                self._introspection(sub_nodes, returns.fields[name])

    def _resolve(self, fields: int) -> None:
        self.resolved += fields
        if self.resolved > settings.GRAPHQL_MAX_COMPLEXITY:
            raise _TooComplex

    def _arguments(self, definition: GraphQLField, node: FieldNode) -> dict:
        """Argument values by their GraphQL names (graphene hands resolvers snake_case ones)."""
        values = get_argument_values(definition, node, self.variables)
        named = {name: argument.out_name or name for name, argument in definition.args.items()}
        return {name: values[out] for name, out in named.items() if out in values}

    def _arguments_valid(self, type_name: str, name: str, arguments: dict, node) -> bool:
        valid = True
        for argument, rule in ARGUMENT_RULES.get((type_name, name), {}).items():
            value = arguments.get(argument)
            # An explicit null reaches here for a nullable argument with a default.
            problem = "must not be null" if value is None else rule(value)
            if problem:
                valid = False
                self.errors.append(
                    GraphQLError(
                        f"{name}({argument}:) {problem}",
                        node,
                        extensions={"code": "BAD_USER_INPUT", "field": name, "argument": argument},
                    )
                )
        return valid

    def _count(self, type_name: str, name: str, arguments: dict, scope: _Scope, node) -> _Scope:
        """Add the calls `name` makes; answer the scope of the fields below it."""
        match type_name, name:
            case "Query", "videos":
                self.calls += 1
                return _Scope(batch=id(node), list_size=arguments["limit"])
            case "Query", "activeStreams":
                self.calls += 1
                return _Scope(batch=id(node), list_size=arguments["limit"])
            case "Query", "video":
                self.video_ids.add(arguments["id"])
                return _Scope(video_id=arguments["id"])
            case "Query", "videoStats":
                self.stats_ids.add(arguments["videoId"])
            case "Mutation", "startStream":
                self.calls += 1
                return _Scope(video_id=arguments["videoId"])
            case "Mutation", "endStream":
                self.calls += 1
                return _Scope(batch=id(node))
            case ("Query", "platformStats" | "userBalance") | ("Mutation", "addFunds"):
                self.calls += 1
            case "RevenueStats", "revenueByVideo":
                self.calls += 1
                return _Scope(list_size=arguments["limit"])
            case "Video", "stats" if scope.video_id is not None:
                self.stats_ids.add(scope.video_id)
            case "Video", "stats" if scope.batch is not None:
                self.batches.add(scope.batch)
            case ("Query" | "Mutation", _) | ("Video", "stats"):
                raise NotImplementedError(f"{type_name}.{name} does not declare its upstream calls")
            case _:
                return scope
        return _Scope()


def _list_size(type_name: str, name: str, scope: _Scope) -> int:
    """How many items a list field can hold: the `limit` of the field that asked for it."""
    if (type_name, name) in {
        ("Query", "activeStreams"),
        ("VideosResponse", "videos"),
        ("RevenueStats", "revenueByVideo"),
    }:
        return scope.list_size
    raise NotImplementedError(f"{type_name}.{name} does not declare its size")


def _user_input(error: GraphQLError) -> GraphQLError:
    return GraphQLError(error.message, error.nodes, extensions={"code": "BAD_USER_INPUT"})


def _name(operation: OperationDefinitionNode) -> str:
    return operation.name.value if operation.name else "anonymous"


def _too_complex(operation: OperationDefinitionNode) -> GraphQLError:
    limit = settings.GRAPHQL_MAX_COMPLEXITY
    return GraphQLError(
        f"Operation {_name(operation)} resolves more than {limit} fields",
        operation,
        extensions={"code": "QUERY_TOO_COMPLEX", "limit": limit},
    )


def _over_limits(operation: OperationDefinitionNode, walk: _Walk) -> list[GraphQLError]:
    errors = []
    if walk.too_deep:
        limit = settings.GRAPHQL_MAX_DEPTH
        errors.append(
            GraphQLError(
                f"Operation {_name(operation)} is more than {limit} levels deep",
                operation,
                extensions={"code": "QUERY_TOO_DEEP", "limit": limit},
            )
        )
    calls, limit = walk.upstream_calls(), settings.GRAPHQL_MAX_UPSTREAM_CALLS
    if calls > limit:
        errors.append(
            GraphQLError(
                f"Operation {_name(operation)} may make {calls} upstream calls; "
                f"the limit is {limit}",
                operation,
                extensions={
                    "code": "TOO_MANY_UPSTREAM_CALLS",
                    "upstreamCalls": calls,
                    "limit": limit,
                },
            )
        )
    return errors
