import os
from pathlib import Path

from common.env import ENV, var_dir
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
VIDEO_MAX_UPLOAD_BYTES = ENV.int("VIDEO_MAX_UPLOAD_BYTES", default=1024 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 0
FILE_UPLOAD_TEMP_DIR = ENV.str(
    "VIDEO_UPLOAD_TEMP_DIR", default=os.path.join(globals()["MEDIA_ROOT"], ".incoming")
)
os.makedirs(FILE_UPLOAD_TEMP_DIR, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o644

# Scratch space for ffmpeg; a worker killed mid-job leaves a folder that the next success removes.
VIDEO_WORK_DIR = ENV.str("VIDEO_WORK_DIR", default=str(var_dir() / "video-work"))
VIDEO_HLS_SEGMENT_SECONDS = ENV.int("VIDEO_HLS_SEGMENT_SECONDS", default=6)
VIDEO_HLS_MAX_HEIGHT = ENV.int("VIDEO_HLS_MAX_HEIGHT", default=360)
VIDEO_FFMPEG_TIMEOUT_SECONDS = ENV.float("VIDEO_FFMPEG_TIMEOUT_SECONDS", default=1800.0)
# ffmpeg threads per job (0 = one per core); the worker already runs jobs side by side.
VIDEO_FFMPEG_THREADS = ENV.int("VIDEO_FFMPEG_THREADS", default=0)
VIDEO_RETRY_BASE_SECONDS = ENV.float("VIDEO_RETRY_BASE_SECONDS", default=5.0)

# `manage.py run_grpc_server` serves the servicers of this module.
GRPC_SERVICERS = "catalog.grpc"
