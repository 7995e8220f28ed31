"""Catalog answers kept in this process's memory, keyed by the catalog version.

A listing is the same bytes for everyone who sees the same videos, until a video changes. Every
change writes a new `CatalogVersion` token in its own transaction (`catalog_version_bump`), so
a reader asks the database for that one token (a primary-key read, no ORM compilation) and
serves the bytes it built for that token, or builds them again. Nothing older than the last
committed change is ever served, in any process.

Who may see what is part of the key: anonymous callers share one entry per query; a signed-in
caller also sees their own videos in processing, so their entries are theirs alone; staff see
everything.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.db import connection

from catalog.models import CatalogVersion
from common.lru import LRU

MAX_ENTRIES = 2048
# The key holds the caller's query (search text, say): bytes bound it as well as entries.
MAX_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Page:
    version: str
    body: bytes
    etag: str


def catalog_version_bump() -> None:
    """Mark the catalog changed; call inside the transaction of the change."""
    CatalogVersion.objects.bulk_create(
        [CatalogVersion(id=1, token=uuid.uuid4().hex)],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["token"],
    )


def catalog_version() -> str:
    """The token of the last committed change ("" before the first one)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {CatalogVersion._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else ""


def viewer_scope(*, viewer_id: int | None, is_staff: bool) -> str:
    if is_staff:
        return "staff"
    return "public" if viewer_id is None else f"user:{viewer_id}"


class PageCache:
    """A bounded LRU of built answers; an entry of an older version counts as a miss."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES):
        self._entries: LRU[Page] = LRU(
            max_entries=max_entries, max_bytes=max_bytes, weigh=lambda page: len(page.body)
        )

    def get(self, key: tuple, version: str) -> Page | None:
        page = self._entries.get(key)
        return page if page is not None and page.version == version else None

    def put(self, key: tuple, version: str, body: bytes) -> Page:
        digest = hashlib.blake2b(repr((version, key)).encode(), digest_size=12).hexdigest()
        page = Page(version, body, f'"{digest}"')
        self._entries.put(key, page)
        return page

    def clear(self) -> None:
        self._entries.clear()


listings = PageCache()
