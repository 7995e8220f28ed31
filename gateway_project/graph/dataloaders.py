"""Batching loaders for nested fields, one set per GraphQL request (Saleor-style, synchronous).

graphene 3 runs resolvers synchronously under Django's WSGI views, so a Promise-based loader
(aiodataloader) would need an event loop per request. This loader batches by announcement
instead: a list resolver `want()`s the keys its items will ask for, and the first `load()` of
any of them fetches every wanted key still missing in one upstream call. Results are cached for
the request, so repeated keys (aliases, the same video twice) cost nothing.
"""

from collections.abc import Callable, Iterable

from graph.client import Upstreams


class DataLoader:
    def __init__(self, batch_load: Callable[[list], dict]):
        self._batch_load = batch_load
        self._cache: dict = {}
        self._wanted: list = []

    def prime(self, key, value) -> None:
        self._cache.setdefault(key, value)

    def want(self, keys: Iterable) -> None:
        self._wanted.extend(k for k in keys if k not in self._cache and k not in self._wanted)

    def load(self, key):
        if key not in self._cache:
            keys = [key, *(k for k in self._wanted if k != key and k not in self._cache)]
            self._wanted = []
            found = self._batch_load(keys)
            for k in keys:
                self._cache[k] = found.get(k)
        return self._cache[key]


class Loaders:
    """The loaders of one request; resolvers reach them as `info.context.loaders`."""

    def __init__(self, upstreams: Upstreams):
        self.upstreams = upstreams
        self.video = DataLoader(self._videos)
        self.video_stats = DataLoader(self._video_stats)

    def _videos(self, ids: list[int]) -> dict:
        # The catalog has no multi-id route: each distinct id costs one call, never a repeat.
        return {i: self.upstreams.call("video", "GET", f"/api/videos/{i}") for i in ids}

    def _video_stats(self, ids: list[int]) -> dict:
        body = self.upstreams.call(
            "analytics",
            "GET",
            "/api/analytics/cqrs/videos/stats",
            params={"ids": ",".join(str(i) for i in ids)},
        )
        return {row["videoId"]: row for row in body["videos"]}
