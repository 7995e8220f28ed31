import pytest
from django.core.management import CommandError, call_command

from catalog import media
from catalog.models import Video
from common.events.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_seed_demo_videos_fills_an_empty_catalog_once(media_root, capsys):
    call_command("seed_demo_videos", owner_id=5)

    videos = list(Video.objects.order_by("id"))
    assert [v.status for v in videos] == ["ready"] * 3
    assert {v.category for v in videos} == {"music", "nature", "education"}
    assert [round(v.duration) for v in videos] == [30, 24, 36]
    assert {v.uploaded_by for v in videos} == {5}
    for video in videos:
        playlist = media_root / video.hls_path
        assert media.hls_duration(playlist.parent / "index.m3u8") == pytest.approx(
            video.duration, abs=0.5
        )
        assert (media_root / video.thumbnail_path).stat().st_size > 0
    assert OutboxEvent.objects.filter(type="video.ready").count() == 3

    call_command("seed_demo_videos", owner_id=5)
    assert Video.objects.count() == 3
    assert "catalog not empty" in capsys.readouterr().out


def test_seed_demo_videos_is_dev_only(monkeypatch):
    monkeypatch.setenv("STREAMIFY_DEV", "0")
    with pytest.raises(CommandError, match="STREAMIFY_DEV=1"):
        call_command("seed_demo_videos", owner_id=5)
    assert Video.objects.count() == 0
