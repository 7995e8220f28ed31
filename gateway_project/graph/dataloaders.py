"""Batching loaders for nested fields, one set per GraphQL request (Saleor-style, synchronous).

graphene 3 runs resolvers synchronously under Django's WSGI views, so a Promise-based loader
(aiodataloader) would need an event loop per request. This loader batches by announcement
instead: a list resolver `want()`s the keys its items will ask for, and the first `load()` of
one of them fetches that announcement in one upstream call. Results, failures included, are
kept for the request, so a key is never asked for twice (aliases, the same video twice, a
failing upstream under a hundred items).

`graph.validation` counts a document's upstream calls from these rules: one call per list
whose items load, one per key loaded on its own.
"""

from collections.abc import Callable, Iterable

from graphql import GraphQLError

from graph.client import Upstreams, upstream_path

# analytics answers the stats of at most this many videos per call.
STATS_BATCH = 100


class DataLoader:
    def __init__(self, batch_load: Callable[[list], dict], *, max_batch: int = 1):
        self._batch_load = batch_load
        self._max_batch = max_batch
        self._results: dict = {}
        self._batches: dict = {}

    def prime(self, key, value) -> None:
        self._results.setdefault(key, value)

    def want(self, keys: Iterable) -> None:
        """Announce keys that will be loaded together, in batches of at most `max_batch`.

        A key belongs to its latest announcement: the items of the list being resolved always
        share their list's batches, whatever an earlier list announced.
        """
        fresh = [key for key in dict.fromkeys(keys) if key not in self._results]
        for start in range(0, len(fresh), self._max_batch):
            batch = fresh[start : start + self._max_batch]
            for key in batch:
                self._batches[key] = batch

    def load(self, key):
        """The value of `key`: fetched with its batch (or alone) the first time, then kept."""
        if key not in self._results:
            keys = [k for k in self._batches.get(key, [key]) if k not in self._results]
            try:
                found = self._batch_load(keys)
            except GraphQLError as error:
                found = dict.fromkeys(keys, error)
            for k in keys:
                self._results[k] = found.get(k)
                self._batches.pop(k, None)
        result = self._results[key]
        if isinstance(result, GraphQLError):
            raise result
        return result


class Loaders:
    """The loaders of one request; resolvers reach them as `info.context.loaders`."""

    def __init__(self, upstreams: Upstreams):
        self.upstreams = upstreams
        # The catalog has no multi-id route: each video is one call, and never asked twice.
        self.video = DataLoader(self._videos)
        self.video_stats = DataLoader(self._video_stats, max_batch=STATS_BATCH)

    def _videos(self, ids: list[int]) -> dict:
        (video_id,) = ids
        path = upstream_path("/api/videos/{}", video_id)
        return {video_id: self.upstreams.call("video", "GET", path)}

    def _video_stats(self, ids: list[int]) -> dict:
        body = self.upstreams.call(
            "analytics",
            "GET",
            "/api/analytics/cqrs/videos/stats",
            params={"ids": ",".join(str(i) for i in ids)},
        )
        return {row["videoId"]: row for row in body["videos"]}
