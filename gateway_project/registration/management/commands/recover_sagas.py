from django.core.management.base import BaseCommand

from registration.services import saga_recover


class Command(BaseCommand):
    help = "Resend saga steps that never answered; compensate sagas that cannot finish."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale-after",
            type=float,
            default=None,
            help="seconds without answer (default: setting)",
        )

    def handle(self, *args, stale_after=None, **options):
        counts = saga_recover(stale_after=stale_after)
        self.stdout.write(", ".join(f"{k}={v}" for k, v in counts.items()))
