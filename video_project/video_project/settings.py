import os
from pathlib import Path

from common.paths import var_dir
from common.settings import service_settings

globals().update(
    service_settings(
        "video",
        project_dir=Path(__file__).resolve().parent.parent,
        apps=["catalog"],
        metrics_state=("catalog.metrics.videos",),
    )
)

# Uploads stream to a temporary file next to the media, so storing one is a rename, not a copy.
VIDEO_MAX_UPLOAD_BYTES = int(os.environ.get("VIDEO_MAX_UPLOAD_BYTES", str(1024 * 1024 * 1024)))
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = os.environ.get(
    "VIDEO_UPLOAD_TEMP_DIR", os.path.join(globals()["MEDIA_ROOT"], ".incoming")
)
os.makedirs(FILE_UPLOAD_TEMP_DIR, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o644

# Scratch space for ffmpeg; a worker killed mid-job leaves a folder that the next success removes.
VIDEO_WORK_DIR = os.environ.get("VIDEO_WORK_DIR", str(var_dir() / "video-work"))
VIDEO_HLS_SEGMENT_SECONDS = int(os.environ.get("VIDEO_HLS_SEGMENT_SECONDS", "6"))
VIDEO_HLS_MAX_HEIGHT = int(os.environ.get("VIDEO_HLS_MAX_HEIGHT", "360"))
VIDEO_FFMPEG_TIMEOUT_SECONDS = float(os.environ.get("VIDEO_FFMPEG_TIMEOUT_SECONDS", "1800"))
# ffmpeg threads per job (0 = one per core); the worker already runs jobs side by side.
VIDEO_FFMPEG_THREADS = int(os.environ.get("VIDEO_FFMPEG_THREADS", "0"))
VIDEO_RETRY_BASE_SECONDS = float(os.environ.get("VIDEO_RETRY_BASE_SECONDS", "5"))

# `manage.py run_grpc_server` serves the servicers of this module.
GRPC_SERVICERS = "catalog.grpc"
