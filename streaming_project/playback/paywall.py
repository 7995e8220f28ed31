"""Pay-per-minute delivery: the media a session may fetch, given what it has paid.

A session has paid `minutes_charged * 60` seconds of media (the whole video once that reaches
its duration). It may fetch media up to that time plus `STREAMING_READ_AHEAD_SECONDS` (30 by
default): the paid edge. The heartbeat that charges the next minute moves the edge 60 s on.
Nothing else does: serving bytes never charges, so a byte request is a read.

- MP4: the bytes of the samples decoded before the edge, found from the file's own sample
  tables (`playback.mp4`), plus every byte outside `mdat` (`ftyp`, `moov`, ...), which a player
  needs before the first frame wherever the muxer put it. A range that starts inside that is
  answered up to the edge (206 whose Content-Range says where it stops, as for a range past the
  end of a file; a player asks again from there once the edge has moved). A range that starts
  past the edge, or a request for the whole file before all of it is paid, answers 402 naming
  the edge. A file whose sample tables cannot be read is cut at the edge's share of its size,
  i.e. at the read-ahead of its average bitrate.
- HLS: every playlist; a media file whose start time (the `#EXTINF` durations before it)
  is before the edge; 402 for the others.
"""

from dataclasses import dataclass

from django.conf import settings

from common.media_storage import MediaObject
from playback import mp4
from playback.models import StreamSession
from playback.ranges import ByteRange
from playback.services import PlaybackError

SECONDS_PER_PAID_MINUTE = 60


@dataclass(frozen=True)
class PaidEdge:
    paid_seconds: float
    edge_seconds: float
    duration_seconds: float

    @property
    def everything(self) -> bool:
        return self.edge_seconds >= self.duration_seconds


class NotPaidYet(PlaybackError):
    """The media asked for lies past the paid edge (402); `edge_byte` for a byte range."""

    status, message = 402, "Not paid that far yet"

    def __init__(self, edge: PaidEdge, *, edge_byte: int | None = None):
        super().__init__(f"media past {edge.edge_seconds:g} s is not paid yet")
        self.edge, self.edge_byte = edge, edge_byte

    def details(self) -> list[dict]:
        edge = self.edge
        return [
            {
                "message": f"{edge.paid_seconds:g} s of this {edge.duration_seconds:g} s video "
                f"are paid; media up to {edge.edge_seconds:g} s (the paid time plus the "
                "read-ahead) may be fetched. The heartbeat that pays the next minute moves "
                "the edge."
            }
        ]

    def fields(self) -> dict:
        edge = self.edge
        return {
            "paidSeconds": edge.paid_seconds,
            "edgeSeconds": edge.edge_seconds,
            "edgeByte": self.edge_byte,
        }


def paid_edge_get(*, session: StreamSession) -> PaidEdge:
    paid = min(session.minutes_charged * SECONDS_PER_PAID_MINUTE, session.duration_seconds)
    return PaidEdge(
        paid_seconds=paid,
        edge_seconds=paid + settings.STREAMING_READ_AHEAD_SECONDS,
        duration_seconds=session.duration_seconds,
    )


@dataclass(frozen=True)
class ByteWindow:
    """The bytes of one file a session may fetch: `[0, paid_end)` and `[free_from, size)`."""

    edge: PaidEdge
    size: int
    paid_end: int
    free_from: int

    def clamp(self, wanted: ByteRange | None) -> ByteRange | None:
        """The part of `wanted` (None: the whole file) to send; raise NotPaidYet if none."""
        if wanted is None:
            if self.paid_end >= self.free_from:
                return None
        elif wanted.start < self.paid_end:
            return ByteRange(wanted.start, min(wanted.end, self.paid_end - 1))
        elif wanted.start >= self.free_from:
            return wanted
        raise NotPaidYet(self.edge, edge_byte=self.paid_end)


def mp4_window_get(*, session: StreamSession, media: MediaObject) -> ByteWindow:
    """The bytes of the session's stored MP4 that its payments cover."""
    edge = paid_edge_get(session=session)
    layout = mp4.mp4_layout_read(media=media)
    if layout is None:
        size = media.size
        share = min(1.0, edge.edge_seconds / edge.duration_seconds)
        paid_end = size if edge.everything else int(size * share)
        return ByteWindow(edge, size, paid_end, free_from=size)
    paid_end = layout.size if edge.everything else layout.media_offset(edge.edge_seconds)
    return ByteWindow(edge, layout.size, paid_end, free_from=layout.media_end)


def segment_check(*, session: StreamSession, starts_at: float) -> None:
    """Raise NotPaidYet unless a media file starting at `starts_at` seconds is paid for."""
    edge = paid_edge_get(session=session)
    if starts_at >= edge.edge_seconds and not edge.everything:
        raise NotPaidYet(edge)
