from django.core.management.base import BaseCommand, CommandError

from accounts import services
from common import env

DEMO_EMAIL = "demo@streamify.local"
DEMO_PASSWORD = "streamify-demo"


class Command(BaseCommand):
    help = "Create the demo viewer if missing (embedded dev mode only); print only its id."

    def handle(self, *args, **options):
        if not env.dev_mode():
            raise CommandError("the demo user exists only in embedded mode (STREAMIFY_DEV=1)")
        user = services.user_ensure(
            email=DEMO_EMAIL, password=DEMO_PASSWORD, first_name="Demo", last_name="Viewer"
        )
        self.stdout.write(str(user.id))
