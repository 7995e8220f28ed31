from django.core.management.base import BaseCommand, CommandError

from catalog.services import demo_videos_seed
from common.env import dev_mode


class Command(BaseCommand):
    help = "Dev mode: give an empty catalog a few generated, fully processed sample videos."

    def add_arguments(self, parser):
        parser.add_argument("--owner-id", type=int, required=True, help="the demo user's id")

    def handle(self, *args, owner_id: int, **options):
        if not dev_mode():
            raise CommandError("seed_demo_videos runs only with STREAMIFY_DEV=1")
        if owner_id <= 0:
            raise CommandError("--owner-id must be a positive user id")
        videos = demo_videos_seed(owner_id=owner_id)
        if not videos:
            self.stdout.write("catalog not empty: no demo videos added")
        for video in videos:
            self.stdout.write(f"video {video.id} {video.status} {video.duration}s {video.title}")
