"""Where media lives: a folder video and streaming share (the default), or an S3-compatible
bucket that every replica of both reaches.

    STREAMIFY_MEDIA_BUCKET=streamify-media            # unset: files under MEDIA_ROOT
    STREAMIFY_MEDIA_ENDPOINT_URL=http://minio:9000    # MinIO, moto; unset: AWS itself
    STREAMIFY_MEDIA_REGION=us-east-1
    STREAMIFY_MEDIA_CONNECT_TIMEOUT=2 / STREAMIFY_MEDIA_READ_TIMEOUT=10    # seconds
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY         # boto3's own lookup

Writes go through Django's storage API (django-storages' S3 backend for a bucket). Reads of a
byte range go through `open_media`, which reads a bucket's object by ranged GETs as they are
asked for, never the whole object: a viewer seeking into a film costs the bytes they fetch.
"""

import io
import os
import stat
from dataclasses import dataclass

from django.core.files.storage import FileSystemStorage, default_storage

from common.breakers.failures import UpstreamUnavailable
from common.env import ENV

BUCKET = "STREAMIFY_MEDIA_BUCKET"
MEDIA_SERVICES = ("video", "streaming")  # video writes media, streaming reads it


def client_config():
    """botocore's settings for the bucket: short deadlines and one retry. Its defaults (60 s to
    connect and to read, retried) would hold a viewer's request, and a web thread, for minutes
    on a store that stopped answering; this way the viewer gets a 503 with Retry-After."""
    from botocore.config import Config

    return Config(
        s3={"addressing_style": "path"},
        connect_timeout=ENV.float("STREAMIFY_MEDIA_CONNECT_TIMEOUT", default=2.0),
        read_timeout=ENV.float("STREAMIFY_MEDIA_READ_TIMEOUT", default=10.0),
        retries={"mode": "standard", "max_attempts": 2},
    )


def storages() -> dict:
    """The STORAGES setting of a service: media on the bucket when one is named."""
    bucket = ENV.str(BUCKET, default="")
    if bucket:
        media = {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": ENV.str("STREAMIFY_MEDIA_ENDPOINT_URL", default="") or None,
                "region_name": ENV.str("STREAMIFY_MEDIA_REGION", default="us-east-1"),
                # Media is reached only through the services (signed, paid URLs), never public.
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "client_config": client_config(),
            },
        }
    else:
        media = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    return {
        "default": media,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def on_object_store() -> bool:
    return not isinstance(default_storage, FileSystemStorage)


def check_bucket() -> None:
    """Readiness: the bucket answers with these credentials (a clear error names the setting)."""
    if not on_object_store():
        return
    name = default_storage.bucket_name
    try:
        default_storage.bucket.meta.client.head_bucket(Bucket=name)
    except Exception as exc:  # noqa: BLE001 - re-raised with the setting to fix
        raise RuntimeError(f"{BUCKET}={name!r} is not usable: {exc}") from exc


@dataclass(frozen=True)
class MediaObject:
    """A stored media file: its name, size, and a version that changes when it is replaced."""

    name: str
    size: int
    version: str


class MediaMissing(Exception):
    """No such media file."""


class MediaChanged(OSError):
    """The object was replaced while it was being read: the bytes would not belong together."""


# The answers of a bucket that mean "no such object"; any other error is the store's trouble.
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
STORE_RETRY_AFTER = 5  # seconds a caller is told to wait when the bucket cannot answer


def stat_media(name: str) -> MediaObject:
    """The stored file `name`. Raise `MediaMissing` when there is none (a link is none: the
    folder serves only its own regular files) and `UpstreamUnavailable("media storage")` when
    the bucket cannot say (unreachable, refused credentials, throttled)."""
    if not on_object_store():
        try:
            found = os.lstat(default_storage.path(name))
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise MediaMissing(name) from exc
        if not stat.S_ISREG(found.st_mode):
            raise MediaMissing(name)
        return MediaObject(name, found.st_size, str(found.st_mtime_ns))
    from botocore.exceptions import BotoCoreError, ClientError

    stored = default_storage.bucket.Object(name)
    try:
        stored.load()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING_CODES:
            raise MediaMissing(name) from exc
        raise _store_unavailable(exc) from exc
    except BotoCoreError as exc:
        raise _store_unavailable(exc) from exc
    return MediaObject(name, stored.content_length, stored.e_tag)


def _store_unavailable(exc: Exception) -> UpstreamUnavailable:
    return UpstreamUnavailable("media storage", STORE_RETRY_AFTER, f"{type(exc).__name__}: {exc}")


def open_media(media: MediaObject):
    """A seekable binary reader of the file: the file itself on a folder (so a server may use
    sendfile), ranged GETs on a bucket."""
    if not on_object_store():
        return open(default_storage.path(media.name), "rb")  # noqa: SIM115 - the caller closes
    # Unbuffered: each read is exactly the bytes asked for (a server's 512 KiB block, a box
    # header), so a 100-byte range costs a 100-byte GET.
    return _RangedObject(default_storage.bucket.Object(media.name), media)


def read_text(name: str) -> str:
    with default_storage.open(name, "rb") as handle:
        return handle.read().decode(errors="replace")


def list_files(prefix: str) -> list[str]:
    """Every file under `prefix` (a folder), as names relative to it."""
    folders, files = default_storage.listdir(prefix)
    nested = [f"{folder}/{name}" for folder in folders for name in list_files(f"{prefix}/{folder}")]
    return sorted([*files, *nested])


class _RangedObject(io.RawIOBase):
    """An object in a bucket as a seekable raw file: each read is one ranged GET of the version
    `stat_media` saw (If-Match its ETag), so a file replaced mid-read raises `MediaChanged`
    instead of splicing two versions' bytes."""

    def __init__(self, stored, media: MediaObject):
        self._stored, self._size, self._version = stored, media.size, media.version
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer) -> int:
        if self._position >= self._size or not len(buffer):
            return 0
        from botocore.exceptions import ClientError

        last = min(self._position + len(buffer), self._size) - 1
        try:
            answer = self._stored.get(Range=f"bytes={self._position}-{last}", IfMatch=self._version)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"412", "PreconditionFailed"}:
                raise MediaChanged(f"{self._stored.key} was replaced while read") from exc
            raise
        data = answer["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)
