"""Analytics answers kept per process, keyed by the projection positions they were built from.

An answer depends on its route and parameters, on who asks when the data is personal, and on
the snapshot of the projections it reads: the generation, its window, the checkpoint of each
projection read, and the store's head position (shown in `freshness`). `selectors.snapshot_current`
reads all of that in one query; when none of it moved, the kept answer is the answer. An event
applied moves a checkpoint, a new event moves the head, a replay changes the generation: each
makes a new key, so nothing stale can match, and old keys age out of the LRU.

Every answer carries a strong ETag (a hash of its bytes) and `no-cache`: a browser may keep it
but asks again each time, and If-None-Match with the current ETag costs the snapshot query and
a 304 without a body. A personal answer is `private` (and varies with the token); any other is
the same for every signed-in caller, so it is `public` and tagged `Surrogate-Key: analytics`:
the gateway then keeps it until the projections announce they moved on
(`analytics.projections.advanced`, published in the transaction that moves them). The cache is
bounded by the bytes it holds, and lives in process memory only.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpResponse, HttpResponseNotModified
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer

from common.auth.authentication import caller_id
from common.conditional import client_holds
from common.lru import LRU
from insights import selectors
from insights.models import Checkpoint

MAX_BYTES = 4 * 2**20
MAX_ENTRIES = 4096
SURROGATE_KEY = "analytics"


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str


def answer_cache(max_bytes: int = MAX_BYTES) -> LRU[Answer]:
    return LRU(max_entries=MAX_ENTRIES, max_bytes=max_bytes, weigh=lambda a: len(a.body))


answers = answer_cache()


def _rendered(data: dict) -> Answer:
    body = JSONRenderer().render(data)
    return Answer(body=body, etag=f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"')


def cached_answer(
    request, *, key: tuple, build: Callable[[], dict], personal: bool
) -> HttpResponse:
    """The answer for `key` (building and keeping it if it is not kept), or 304 if unchanged.

    `key` must hold everything the answer depends on, the caller's identity included when the
    answer is `personal`; `build` is called only on a miss.
    """
    answer = answers.get(key)
    if answer is None:
        answer = _rendered(build())
        answers.put(key, answer)
    if client_holds(request, answer.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(answer.body, content_type="application/json")
        response["Content-Length"] = str(len(answer.body))  # the gateway keeps sized answers
    response["ETag"] = answer.etag
    if personal:
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Authorization"
    else:
        response["Cache-Control"] = "public, no-cache"
        response["Surrogate-Key"] = SURROGATE_KEY
    return response


def cached_read(
    request,
    query: str,
    build,
    *,
    params: tuple = (),
    reads: tuple[str, ...] = (Checkpoint.READ_MODELS,),
    personal: bool = False,
):
    """Answer a read from the read cache: `build(snapshot)` runs only when the key is new.

    The key is the query, its parameters, the caller when the answer is `personal`, and the
    snapshot positions of the projections it `reads` (above).
    """
    snapshot = selectors.snapshot_current()
    caller = caller_id(request) if personal else None
    key = (query, params, caller, snapshot.key(*reads))
    return cached_answer(request, key=key, build=lambda: build(snapshot), personal=personal)


# Every read answers with an ETag and may be revalidated with it.
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of an earlier answer: 304 without a body if it is still current.",
)
NOT_MODIFIED = {304: OpenApiResponse(description="The If-None-Match ETag is still current.")}


def read_schema(*, responses: dict, parameters: tuple = (), **kwargs):
    """`extend_schema` for a cached read: If-None-Match accepted, 304 possible."""
    return extend_schema(
        parameters=[*parameters, IF_NONE_MATCH], responses={**responses, **NOT_MODIFIED}, **kwargs
    )
