"""HTTP byte ranges (RFC 9110 section 14) for one file: parse `Range`, answer with a slice.

Only single ranges are honoured: a video element asks for one at a time, and a multi-range
request may be answered with the whole file (200), which the RFC allows.
"""

import re
from dataclasses import dataclass

from common.errors import DomainError

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class MalformedRange(DomainError, ValueError):
    """Not a byte-range header this server understands (answered 400)."""

    status, message = 400, "Malformed Range header"

    def details(self) -> list[dict]:
        return [{"range": str(self)}]


class UnsatisfiableRange(DomainError, ValueError):
    """A well-formed range that lies outside the file (answered 416 with the size)."""

    status, message = 416, "Range not satisfiable"

    def __init__(self, header: str, size: int):
        super().__init__(header)
        self.size = size

    def fields(self) -> dict:
        return {"size": self.size}

    def headers(self) -> dict:
        return {"Content-Range": f"bytes */{self.size}"}


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The slice of a `size`-byte file that `header` asks for; None means the whole file."""
    if header is None:
        return None
    value = header.strip().replace(" ", "")
    if value.startswith("bytes=") and "," in value:
        parts = value.removeprefix("bytes=").split(",")
        if not all(_SINGLE.match(f"bytes={p}") and p != "-" for p in parts):
            raise MalformedRange(header)
        return None
    match = _SINGLE.match(value)
    if match is None or value == "bytes=-":
        raise MalformedRange(header)
    first, last = match.groups()
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRange(header, size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        raise MalformedRange(header)
    if start >= size:
        raise UnsatisfiableRange(header, size)
    return ByteRange(start, min(end, size - 1))


class FileSlice:
    """A read-only view of `length` bytes of an open file from `start`.

    `read` stops at the end of the slice, so no server sends more than asked (granian, which
    serves the platform, reads it in blocks). It keeps `fileno()` too, so a server whose
    `wsgi.file_wrapper` uses sendfile(2) (gunicorn's) sends it from the file position for
    Content-Length bytes without copying it through Python.
    """

    def __init__(self, file, start: int, length: int):
        file.seek(start)
        self._file, self._remaining = file, length

    def read(self, size: int = -1) -> bytes:
        wanted = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._file.read(wanted) if wanted else b""
        self._remaining -= len(data)
        return data

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
