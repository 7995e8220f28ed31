"""Limits on what one GraphQL document may ask for: depth and complexity, checked before any
resolver runs, so an abusive nested query costs a parse and a walk, not upstream calls."""

from django.conf import settings
from graphql import GraphQLError, ValidationRule
from graphql.language import (
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
)

# Root fields returning lists multiply the cost of what they select by their size (at most),
# read from the named argument when there is one.
LIST_FIELDS = {"videos": "limit", "activeStreams": None}
DEFAULT_LIST_SIZE = 10


class QueryLimitsRule(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_):
        fragments = {
            f.name.value: f
            for f in self.context.document.definitions
            if hasattr(f, "type_condition") and f.name
        }
        depth, cost = _measure(node.selection_set, fragments, depth=0, seen=frozenset())
        name = node.name.value if node.name else "anonymous"
        max_depth, max_cost = settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_COMPLEXITY
        if depth > max_depth:
            self.report_error(
                GraphQLError(
                    f"Operation {name} is {depth} levels deep; the limit is {max_depth}",
                    node,
                    extensions={"code": "QUERY_TOO_DEEP", "depth": depth},
                )
            )
        if cost > max_cost:
            self.report_error(
                GraphQLError(
                    f"Operation {name} costs {cost}; the limit is {max_cost}",
                    node,
                    extensions={"code": "QUERY_TOO_COMPLEX", "complexity": cost},
                )
            )


def _list_size(field: FieldNode) -> int:
    argument = LIST_FIELDS.get(field.name.value)
    for arg in field.arguments or ():
        if arg.name.value == argument and hasattr(arg.value, "value"):
            try:
                return max(1, min(int(arg.value.value), 100))
            except (TypeError, ValueError):
                return DEFAULT_LIST_SIZE
    return DEFAULT_LIST_SIZE


def _measure(selection_set, fragments: dict, *, depth: int, seen: frozenset) -> tuple[int, int]:
    """(deepest level, total cost) of a selection set, fragments expanded (cycles cut)."""
    if selection_set is None:
        return depth, 0
    deepest, cost = depth, 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection is bounded by the schema itself
            below, inner = _measure(selection.selection_set, fragments, depth=depth + 1, seen=seen)
            if depth == 0 and selection.name.value in LIST_FIELDS and selection.selection_set:
                inner *= _list_size(selection)
            deepest, cost = max(deepest, below), cost + 1 + inner
        elif isinstance(selection, InlineFragmentNode):
            below, inner = _measure(selection.selection_set, fragments, depth=depth, seen=seen)
            deepest, cost = max(deepest, below), cost + inner
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen or name not in fragments:
                continue  # cycles and unknown fragments are reported by graphql's own rules
            below, inner = _measure(
                fragments[name].selection_set, fragments, depth=depth, seen=seen | {name}
            )
            deepest, cost = max(deepest, below), cost + inner
    return deepest, cost
