"""Where media time lies in an MP4 file: enough of ISO/IEC 14496-12 to map seconds to bytes.

Only box headers and the sample tables of each track are read (`mdhd` timescale, `stts` sample
durations, `stsz` sample sizes, `stsc` samples per chunk, `stco`/`co64` chunk offsets): from
them every sample gets its file offset and decode time. Sample data (`mdat`) is never read.
Everything outside `mdat` is the header (`ftyp`, `moov`, ...): a player needs it before the
first frame, wherever the muxer put it.
"""

import bisect
import struct
from array import array
from dataclasses import dataclass
from functools import lru_cache

from common.media_storage import MediaObject, open_media

# `moov` holds the sample tables: a few MB for hours of video. More is not a file we made.
MAX_MOOV_BYTES = 64 * 1024 * 1024
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


class NotAnIndexedMp4(ValueError):
    """The file has no `moov` with sample tables and one `mdat` (fragmented, truncated, other)."""


@dataclass(frozen=True)
class Mp4Layout:
    """A file's media area (`media_start` to `media_end`) and its samples in decode-time order.

    `times` is sorted; `offsets_from[i]` is the smallest file offset of the samples from `i` on,
    so every byte of the media area before it belongs to samples decoded before `times[i]`.
    """

    size: int
    media_start: int
    media_end: int
    times: array  # of float seconds
    offsets_from: array  # of int offsets

    def media_offset(self, seconds: float) -> int:
        """The first byte of the media area holding a sample decoded at `seconds` or later."""
        first_later = bisect.bisect_left(self.times, seconds)
        if first_later == len(self.times):
            return self.media_end
        return max(self.media_start, self.offsets_from[first_later])


def mp4_layout_read(*, media: MediaObject) -> Mp4Layout | None:
    """The layout of the stored MP4, or None when it cannot be read as an indexed MP4."""
    return _cached_layout(media)


@lru_cache(maxsize=16)
def _cached_layout(media: MediaObject) -> Mp4Layout | None:
    # Keyed by size and version too: a file replaced in place is read again.
    try:
        return _layout(media)
    except (NotAnIndexedMp4, struct.error):
        return None


def _layout(stored: MediaObject) -> Mp4Layout:
    size = stored.size
    with open_media(stored) as handle:
        moov = media = None
        for kind, start, header, end in _boxes(handle, 0, size):
            if kind == b"moov":
                if end - start > MAX_MOOV_BYTES:
                    raise NotAnIndexedMp4("moov too large")
                handle.seek(start + header)
                moov = handle.read(end - start - header)
            elif kind == b"mdat":
                if media is not None:
                    raise NotAnIndexedMp4("more than one mdat")
                media = (start + header, end)
    if moov is None or media is None:
        raise NotAnIndexedMp4("no moov or no mdat")
    samples = sorted(s for trak in _children(moov, b"trak") for s in _samples(trak))
    if not samples:
        raise NotAnIndexedMp4("no samples")
    offsets_from = array("q", bytes(8 * len(samples)))
    smallest = media[1]
    for index in range(len(samples) - 1, -1, -1):
        smallest = min(smallest, samples[index][1])
        offsets_from[index] = smallest
    return Mp4Layout(
        size=size,
        media_start=media[0],
        media_end=media[1],
        times=array("d", (time for time, _ in samples)),
        offsets_from=offsets_from,
    )


def _boxes(handle, start: int, end: int):
    """(type, start, header length, end) of each top-level box between `start` and `end`."""
    position = start
    while position + 8 <= end:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", handle.read(8))
            header = 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise NotAnIndexedMp4(f"box {kind!r} at {position} overruns the file")
        yield kind, position, header, position + size
        position += size


def _children(data: bytes, wanted: bytes) -> list[bytes]:
    """Payloads of the boxes of type `wanted` inside `data`, looking into container boxes."""
    found, position = [], 0
    while position + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:
            size = len(data) - position
        if size < header or position + size > len(data):
            raise NotAnIndexedMp4(f"box {kind!r} overruns its parent")
        payload = data[position + header : position + size]
        if kind == wanted:
            found.append(payload)
        elif kind in _CONTAINERS:
            found.extend(_children(payload, wanted))
        position += size
    return found


def _one(data: bytes, wanted: bytes) -> bytes:
    boxes = _children(data, wanted)
    if len(boxes) != 1:
        raise NotAnIndexedMp4(f"{len(boxes)} {wanted.decode()} boxes in a track")
    return boxes[0]


def _entries(box: bytes, fields: str) -> list[tuple[int, ...]]:
    """The entries of a full box whose payload is a version/flags word, a count, then rows."""
    (count,) = struct.unpack_from(">I", box, 4)
    row = struct.Struct(f">{fields}")
    if 8 + count * row.size > len(box):
        raise NotAnIndexedMp4("a sample table is shorter than its count")
    return list(row.iter_unpack(box[8 : 8 + count * row.size]))


def _samples(trak: bytes) -> list[tuple[float, int]]:
    """(decode time in seconds, file offset) of every sample of a track."""
    mdhd = _one(trak, b"mdhd")
    timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    if timescale == 0:
        raise NotAnIndexedMp4("timescale 0")
    sizes = _sample_sizes(_one(trak, b"stsz"))
    times, time = [], 0
    for count, delta in _entries(_one(trak, b"stts"), "II"):
        for _ in range(min(count, len(sizes) - len(times))):
            times.append(time / timescale)
            time += delta
    wide = _children(trak, b"co64")
    table = _entries(wide[0], "Q") if wide else _entries(_one(trak, b"stco"), "I")
    chunk_offsets = [offset for (offset,) in table]
    runs = _entries(_one(trak, b"stsc"), "III")
    offsets: list[int] = []
    for index, (first_chunk, per_chunk, _) in enumerate(runs):
        last_chunk = runs[index + 1][0] - 1 if index + 1 < len(runs) else len(chunk_offsets)
        for chunk in range(first_chunk, last_chunk + 1):
            if not 1 <= chunk <= len(chunk_offsets) or len(offsets) + per_chunk > len(sizes):
                raise NotAnIndexedMp4("stsc disagrees with stco or stsz")
            position = chunk_offsets[chunk - 1]
            for sample in range(len(offsets), len(offsets) + per_chunk):
                offsets.append(position)
                position += sizes[sample]
    if len(offsets) != len(sizes) or len(times) != len(sizes):
        raise NotAnIndexedMp4("sample tables of different lengths")
    return list(zip(times, offsets, strict=True))


def _sample_sizes(stsz: bytes) -> list[int]:
    uniform, count = struct.unpack_from(">II", stsz, 4)
    if uniform:
        return [uniform] * count
    if 12 + 4 * count > len(stsz):
        raise NotAnIndexedMp4("stsz is shorter than its count")
    return [size for (size,) in struct.iter_unpack(">I", stsz[12 : 12 + 4 * count])]
