from django.core.management import call_command
from django.core.management.base import BaseCommand

from common import env


class Command(BaseCommand):
    help = (
        "Make this service ready to start in one process: migrate its database, declare its "
        "broker topology and, in embedded mode, create the dev superuser."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("setup_broker", stdout=self.stdout)
        if env.dev_mode():
            call_command("ensure_dev_superuser", stdout=self.stdout)
