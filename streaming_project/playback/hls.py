"""What an HLS rendition folder holds: its playlists, and when each media file starts playing.

A segment starts at the sum of the `#EXTINF` durations before it in its media playlist; an
initialisation section (`#EXT-X-MAP`) starts at 0. Names are paths relative to the rendition
folder, as a player resolves them from the playlist's URL. Anything no playlist names is not
part of the rendition.
"""

import posixpath
from dataclasses import dataclass
from functools import lru_cache

import m3u8

from common import media_storage


@dataclass(frozen=True)
class Rendition:
    playlists: frozenset[str]
    starts: dict[str, float]  # media file -> the media time (seconds) where it starts


def hls_rendition_read(*, folder: str, version: str) -> Rendition:
    """The playlists and media files of the stored rendition in `folder`.

    `version` is the master playlist's (its mtime or ETag): renditions are written once into a
    fresh folder, so the folder and that version name one rendition for as long as it lives.
    """
    return _rendition(folder, version)


@lru_cache(maxsize=256)
def _rendition(folder: str, version: str) -> Rendition:
    playlists, starts = set(), {}
    for name in media_storage.list_files(folder):
        if not name.endswith(".m3u8"):
            continue
        playlists.add(name)
        playlist = m3u8.loads(media_storage.read_text(f"{folder}/{name}"))
        base = posixpath.dirname(name)
        at = 0.0
        for segment in playlist.segments:
            for uri, start in ((_init_uri(segment), 0.0), (segment.uri, at)):
                key = _relative(base, uri)
                if key is not None:
                    starts[key] = min(start, starts.get(key, start))
            at += segment.duration or 0.0
    return Rendition(frozenset(playlists), starts)


def _init_uri(segment) -> str | None:
    return segment.init_section.uri if segment.init_section is not None else None


def _relative(base: str, uri: str | None) -> str | None:
    """`uri` as a path relative to the rendition folder; None for absolute or escaping URIs."""
    if not uri or "://" in uri or uri.startswith("/"):
        return None
    name = posixpath.normpath(posixpath.join(base, uri))
    return None if name.startswith("..") else name
