from django.core.management.base import BaseCommand

from common.events.relay import relay_outbox


class Command(BaseCommand):
    help = "Publish every pending outbox event now (the worker also sweeps them periodically)."

    def handle(self, *args, **options):
        self.stdout.write(f"relayed {relay_outbox()} event(s)")
