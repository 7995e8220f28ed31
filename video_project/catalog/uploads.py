"""Receiving a multipart upload: straight to a temporary file on disk, never past the size limit."""

from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler
from rest_framework import status
from rest_framework.exceptions import APIException, UnsupportedMediaType

# Room for the form fields and multipart boundaries around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class UploadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "upload_too_large"

    def __init__(self, max_bytes: int):
        super().__init__(f"Upload exceeds the limit of {max_bytes} bytes")


class SizeLimitUploadHandler(FileUploadHandler):
    """First in the chain: count file bytes as they stream in and stop past `max_bytes`."""

    def __init__(self, request=None, *, max_bytes: int):
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            raise UploadTooLarge(self.max_bytes)
        return raw_data

    def file_complete(self, file_size):
        return None


def upload_data(request, *, max_bytes: int):
    """Parse `request.data` with the file streamed to disk; 413 before or while reading."""
    if not request.content_type.startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            request.content_type,
            detail="Send the upload as multipart/form-data with the file in the field videoFile",
        )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django's parser refuses a malformed length itself
    if declared > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise UploadTooLarge(max_bytes)
    handlers = [
        SizeLimitUploadHandler(request, max_bytes=max_bytes),
        TemporaryFileUploadHandler(request),
    ]
    request.upload_handlers = handlers
    try:
        return request.data
    except UploadTooLarge:
        # Django closes finished files on error, not the one being written: drop it now.
        for handler in handlers:
            if getattr(handler, "file", None) is not None:
                handler.file.close()
        raise
