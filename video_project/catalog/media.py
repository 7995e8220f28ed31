"""ffmpeg, the only media tool: probing, thumbnails, HLS and MP4 renditions.

imageio-ffmpeg ships an ffmpeg binary but no ffprobe, so probing is done with ffmpeg itself in
two steps: `ffmpeg -i FILE` prints the container and streams (cheap, used to refuse non-video
uploads on the spot), then the chosen streams are decoded to the null muxer with `-progress`,
whose final `out_time_us` is the true duration. The header's "Duration:" line is not trusted:
it is whatever the container claims, and a truncated file claims its full length. Decoding
everything also proves the file plays: any decoder error rejects it.

Functions here work on local paths only and know nothing about models or storage.
"""

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import imageio_ffmpeg

# Demuxers (as ffmpeg names them) of real video containers. ffmpeg also "opens" random bytes
# with text-art demuxers chosen by file extension, hence an allow-list, not a deny-list.
CONTAINER_EXTENSIONS = {
    "mov,mp4,m4a,3gp,3g2,mj2": ".mp4",
    "matroska,webm": ".mkv",
    "avi": ".avi",
    "mpegts": ".ts",
    "flv": ".flv",
    "ogg": ".ogv",
    "mpeg": ".mpg",
    "asf": ".wmv",
}
VIDEO_CODECS = {
    "h264", "hevc", "av1", "vp8", "vp9", "mpeg4", "mpeg2video", "mpeg1video", "theora",
    "wmv2", "wmv3", "vc1", "h263", "mjpeg", "prores", "dnxhd",
}  # fmt: skip

_INPUT = re.compile(r"^Input #0, (?P<format>.+?), from '", re.MULTILINE)
_STREAM = re.compile(
    r"^\s*Stream #0:(?P<index>\d+)\S*: (?P<kind>Video|Audio): (?P<codec>\w+)(?P<rest>.*)$",
    re.MULTILINE,
)
_SIZE = re.compile(r", (?P<width>\d{2,5})x(?P<height>\d{2,5})[ ,]")
_EXTINF = re.compile(r"^#EXTINF:(?P<seconds>[0-9.]+),", re.MULTILINE)


class MediaRejected(Exception):
    """The file is not a playable video; the message says why, for the uploader."""


class MediaToolError(Exception):
    """ffmpeg failed on a file it had accepted: worth retrying, not the uploader's fault."""


@dataclass(frozen=True)
class MediaInfo:
    container: str
    video_index: int
    video_codec: str
    width: int
    height: int
    audio_index: int | None = None
    audio_codec: str = ""
    duration: float | None = None

    @property
    def extension(self) -> str:
        return CONTAINER_EXTENSIONS[self.container]

    @property
    def is_progressive_mp4(self) -> bool:
        """True when the file itself can be served as the progressive MP4 rendition."""
        return (
            self.extension == ".mp4"
            and self.video_codec == "h264"
            and self.audio_codec in {"", "aac"}
        )

    def stream_maps(self) -> list[str]:
        maps = ["-map", f"0:{self.video_index}"]
        if self.audio_index is not None:
            maps += ["-map", f"0:{self.audio_index}"]
        return maps


def ffmpeg_exe() -> str:
    return imageio_ffmpeg.get_ffmpeg_exe()


def media_probe_header(path: Path, *, timeout: float = 30) -> MediaInfo:
    """Read container and streams without decoding; refuse anything that is not a video file."""
    result = _run(["-i", str(path)], timeout=timeout, check=False)
    found = _INPUT.search(result.stderr)
    if found is None:
        raise MediaRejected(f"not a media file ffmpeg can read ({_last_line(result.stderr)})")
    container = found["format"]
    if container not in CONTAINER_EXTENSIONS:
        raise MediaRejected(f"unsupported container {container!r}: not a video file")
    video = audio = None
    for stream in _STREAM.finditer(result.stderr):
        if stream["kind"] == "Video" and video is None and "(attached pic)" not in stream["rest"]:
            video = stream
        elif stream["kind"] == "Audio" and audio is None:
            audio = stream
    if video is None:
        raise MediaRejected("the file has no video stream")
    if video["codec"] not in VIDEO_CODECS:
        raise MediaRejected(f"unsupported video codec {video['codec']!r}")
    size = _SIZE.search(video["rest"] + " ")
    if size is None:
        raise MediaRejected("the video stream has no picture size")
    return MediaInfo(
        container=container,
        video_index=int(video["index"]),
        video_codec=video["codec"],
        width=int(size["width"]),
        height=int(size["height"]),
        audio_index=int(audio["index"]) if audio else None,
        audio_codec=audio["codec"] if audio else "",
    )


def media_probe(path: Path, *, timeout: float) -> MediaInfo:
    """Probe the header, then decode every chosen stream: the duration is what actually plays."""
    info = media_probe_header(path)
    args = ["-v", "error", "-progress", "pipe:1", "-i", str(path), *info.stream_maps()]
    result = _run([*args, "-f", "null", "-"], timeout=timeout, check=False)
    errors = result.stderr.strip()
    if result.returncode != 0 or errors:
        raise MediaRejected(f"the file does not decode cleanly ({_first_line(errors)})")
    progress = dict(
        line.split("=", 1) for line in result.stdout.splitlines() if "=" in line
    )  # the last block wins: it holds the final totals
    frames = int(progress.get("frame", "0") or 0)
    out_time_us = progress.get("out_time_us", "N/A")
    if frames < 1 or not out_time_us.lstrip("-").isdigit() or int(out_time_us) <= 0:
        raise MediaRejected("the file contains no decodable video frames")
    return replace(info, duration=int(out_time_us) / 1_000_000)


def thumbnail_render(source: Path, target: Path, *, info: MediaInfo, timeout: float) -> Path:
    """Write a JPEG of the frame a tenth of the way in (title cards and fades come first)."""
    at = min(10.0, (info.duration or 0) / 10)
    args = ["-v", "error", "-ss", f"{at:.3f}", "-i", str(source), "-map", f"0:{info.video_index}"]
    args += ["-frames:v", "1", "-vf", _scale(360), "-q:v", "4", "-y", str(target)]
    _run(args, timeout=timeout)
    if not target.exists() or target.stat().st_size == 0:
        raise MediaToolError("ffmpeg wrote no thumbnail")
    return target


def hls_package(
    source: Path,
    folder: Path,
    *,
    info: MediaInfo,
    segment_seconds: int,
    max_height: int,
    timeout: float,
    threads: int = 0,
) -> Path:
    """Encode one H.264/AAC rendition into `folder` as VOD HLS; return the master playlist.

    Key frames are forced on segment boundaries so every segment starts decodable and the
    segment durations add up to the probed duration.
    """
    folder.mkdir(parents=True, exist_ok=True)
    args = ["-v", "error", "-i", str(source), *info.stream_maps(), "-threads", str(threads)]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "26", "-pix_fmt", "yuv420p"]
    args += ["-vf", _scale(max_height), "-sc_threshold", "0"]
    args += ["-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})"]
    if info.audio_index is not None:
        args += ["-c:a", "aac", "-b:a", "96k", "-ac", "2"]
    args += ["-f", "hls", "-hls_time", str(segment_seconds), "-hls_playlist_type", "vod"]
    args += ["-hls_segment_filename", str(folder / "segment_%04d.ts")]
    args += ["-master_pl_name", "master.m3u8", "-y", str(folder / "index.m3u8")]
    _run(args, timeout=timeout)
    master = folder / "master.m3u8"
    if not master.exists() or hls_duration(folder / "index.m3u8") <= 0:
        raise MediaToolError("ffmpeg wrote no HLS playlist")
    return master


def progressive_render(
    source: Path, target: Path, *, info: MediaInfo, timeout: float, threads: int = 0
) -> Path:
    """Encode an H.264/AAC MP4 with the index up front, for sources that are not one already."""
    args = ["-v", "error", "-i", str(source), *info.stream_maps(), "-threads", str(threads)]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    args += ["-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2"]
    if info.audio_index is not None:
        args += ["-c:a", "aac", "-b:a", "128k"]
    args += ["-movflags", "+faststart", "-y", str(target)]
    _run(args, timeout=timeout)
    return target


def hls_duration(playlist: Path) -> float:
    """Sum of the segment durations a media playlist announces."""
    return sum(float(m["seconds"]) for m in _EXTINF.finditer(playlist.read_text()))


def clip_generate(
    target: Path,
    *,
    seconds: float,
    size: str = "320x180",
    rate: int = 10,
    frequency: int = 440,
    pattern: str = "testsrc2",
    timeout: float = 120,
) -> Path:
    """Generate an H.264/AAC MP4 test pattern with a tone (tests, demo content, benchmarks)."""
    args = ["-v", "error", "-f", "lavfi", "-i", f"{pattern}=size={size}:rate={rate}"]
    args += ["-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=22050"]
    args += ["-t", f"{seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac", "-b:a", "48k", "-movflags", "+faststart", "-y", str(target)]
    _run(args, timeout=timeout)
    return target


def _scale(max_height: int) -> str:
    return f"scale=-2:'trunc(min({max_height},ih)/2)*2'"


def _run(args: list[str], *, timeout: float, check: bool = True) -> subprocess.CompletedProcess:
    argv = [ffmpeg_exe(), "-hide_banner", "-nostdin", *args]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise MediaToolError(f"ffmpeg took longer than {timeout:.0f}s") from exc
    if check and result.returncode != 0:
        raise MediaToolError(f"ffmpeg exited {result.returncode}: {_last_line(result.stderr)}")
    return result


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[0][:300]


def _last_line(text: str) -> str:
    return (text.strip().splitlines() or ["no output"])[-1][:300]
