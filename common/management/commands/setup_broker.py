from django.conf import settings
from django.core.management.base import BaseCommand

from common.events.topology import declare_topology, handled_types
from common.workers import service_app


class Command(BaseCommand):
    help = (
        "Declare this service's exchanges, event queue, bindings and dead-letter queue, and "
        "remove the queue's bindings to event types it no longer handles."
    )

    def handle(self, *args, **options):
        service = settings.SERVICE_NAME
        with service_app().connection_for_write() as connection:
            connection.ensure_connection(max_retries=3)
            declare_topology(connection, service, prune=True)
        types = ", ".join(handled_types(service)) or "none"
        self.stdout.write(f"{service}: topology declared (consumes: {types})")
