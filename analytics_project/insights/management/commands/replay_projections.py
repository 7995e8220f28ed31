from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from insights import replay


class Command(BaseCommand):
    help = "Rebuild every analytics read model from the event store, then switch to it."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="from_time", help="only events at/after (ISO 8601)")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, from_time=None, batch_size=5000, **options):
        start = parse_datetime(from_time) if from_time else None
        if from_time and (start is None or start.tzinfo is None):
            raise CommandError("--from must be an ISO 8601 timestamp with a UTC offset")
        try:
            result = replay.replay_run(from_time=start, batch_size=batch_size)
        except replay.ReplaySuperseded as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"replayed {result.events_replayed} events into generation {result.generation} "
            f"(was {result.previous_generation}) in {result.duration_ms} ms "
            f"({result.events_per_second} events/s), position {result.position}"
        )
