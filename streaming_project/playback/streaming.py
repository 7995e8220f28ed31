"""HTTP responses that send a stored file, or a byte range of it, without reading it into
memory (from a bucket: by ranged GETs as the response is sent)."""

from collections.abc import Callable

from django.http import FileResponse

from common.media_storage import MediaObject, open_media
from playback.ranges import ByteRange, FileSlice, parse_range


class RangeFileResponse(FileResponse):
    """FileResponse with big blocks; `file_response` sets Content-Length and Content-Range."""

    block_size = 512 * 1024


def file_response(
    *,
    media: MediaObject,
    content_type: str,
    range_header: str | None,
    clamp: Callable[[ByteRange | None], ByteRange | None] | None = None,
) -> FileResponse:
    """200 with the whole file, or 206 with the one range asked for, as `clamp` cuts it.

    `clamp` gets the range asked for (None: the whole file) and returns what may be sent, or
    raises. Raise MalformedRange / UnsatisfiableRange (the caller answers 400 / 416). granian
    (which serves every service) reads the slice in 512 KiB blocks; a server whose
    `wsgi.file_wrapper` uses sendfile(2) sends it without copying it through Python.
    """
    size = media.size
    handle = open_media(media)  # closed by the response once sent
    try:
        wanted = parse_range(range_header, size)
        if clamp is not None:
            wanted = clamp(wanted)
    except Exception:
        handle.close()
        raise
    if wanted is None:
        response = RangeFileResponse(FileSlice(handle, 0, size), content_type=content_type)
        response["Content-Length"] = str(size)
    else:
        response = RangeFileResponse(
            FileSlice(handle, wanted.start, wanted.length), content_type=content_type, status=206
        )
        response["Content-Length"] = str(wanted.length)
        response["Content-Range"] = wanted.content_range(size)
    response["Accept-Ranges"] = "bytes"
    # The URL is a capability that dies with the session: no cache may keep serving it.
    response["Cache-Control"] = "private, no-store"
    return response
