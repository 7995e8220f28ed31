"""JSON in and out of every service: orjson, with limits a client cannot get past.

A request body is accepted only as strict UTF-8 JSON nested at most `MAX_DEPTH` levels, with no
NUL character in any string (no database column can store one), so a hostile body becomes a 400
at the parser instead of a RecursionError or a database error deep inside a view.

Its values then go through serializers built on `StrictSerializer` and the strict fields below:
a field takes only its own JSON type (DRF would turn 12 into "12", or 2**64, parsed as a float,
into "1.8446744073709552e+19"), and a key the serializer does not declare is refused, not
ignored, so a misspelt field never falls back to its default in silence.
"""

import json
from collections.abc import Mapping

import orjson
from rest_framework import parsers, renderers, serializers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils.encoders import JSONEncoder

MAX_DEPTH = 32
# Ids and amounts are stored as PostgreSQL bigint.
MAX_BIGINT = 2**63 - 1


class MalformedBody(ValueError):
    """Not a JSON body this platform accepts; the message says why, for the client."""


def loads(raw: bytes | str) -> object:
    """The JSON value of `raw`, or MalformedBody."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"Malformed JSON: {exc}") from exc
    _check(value)
    return value


def _check(value: object) -> None:
    # Iterative, so a deep document cannot exhaust the stack here either.
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            if "\x00" in node:
                raise MalformedBody("Text may not contain NUL (\\u0000) characters")
            continue
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise MalformedBody(f"JSON nested deeper than {MAX_DEPTH} levels")
        pending.extend((child, depth + 1) for child in children)


# Dates go through DRF's encoder so they read exactly as before ("...Z"); int keys as strings.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
_encoder = JSONEncoder()


def dumps(value: object) -> bytes:
    try:
        return orjson.dumps(value, default=_encoder.default, option=_OPTIONS)
    except TypeError:
        # orjson stops at 64-bit integers (an id echoed back from a hostile path, say).
        return json.dumps(value, cls=JSONEncoder, separators=(",", ":")).encode()


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser on `loads`: malformed, too deep or NUL-carrying bodies are a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return loads(stream.read())
        except MalformedBody as exc:
            raise ParseError(str(exc)) from exc


class StrictSerializer(serializers.Serializer):
    """Refuse keys the serializer does not declare, each named, beside any other field error."""

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # DRF's "Expected a dictionary" error
        unknown = {name: ["Unknown field."] for name in sorted(set(data) - set(self.fields))[:20]}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **unknown}) from exc
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


class StrictCharField(serializers.CharField):
    """A string, and only a string: no number or boolean turned into its text."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer and nothing else (no "10", no 10.0, no true), within bigint."""

    default_error_messages = {"not_an_integer": "Must be an integer."}

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", MAX_BIGINT)
        kwargs.setdefault("min_value", -MAX_BIGINT - 1)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("not_an_integer")
        return super().to_internal_value(data)


class IsoDateTimeField(serializers.DateTimeField):
    """A time as Python's isoformat writes it (`+00:00`), the form Streamify's answers use."""

    def to_representation(self, value):
        return value.isoformat()


class MessageField(serializers.CharField):
    """An answer's `message`: always there, the same text for every answer of its shape."""

    def __init__(self, text: str, **kwargs):
        super().__init__(read_only=True, **kwargs)
        self.text = text

    def get_attribute(self, instance) -> str:
        return self.text


class TrueField(serializers.BooleanField):
    """A flag an answer of its shape always carries as true (`success`, the original's); an
    answer without the thing it confirms is another shape (`RefundedSerializer`'s `false`)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance) -> bool:
        return True


def parsed(serializer_class, data, **options) -> dict:
    """`data` (a body or a query) validated by `serializer_class`; a refusal raises DRF's
    ValidationError, which the one exception handler answers as a 400 naming each field."""
    serializer = serializer_class(data=data, **options)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer on orjson (dates, UUIDs and decimals as DRF writes them)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)


class JSONFirstNegotiation(DefaultContentNegotiation):
    """A view that only speaks JSON answers JSON without reading `Accept` (DRF's parsing of it
    was a measurable share of a cached read); views with several formats negotiate as usual."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if len(renderers) == 1:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
