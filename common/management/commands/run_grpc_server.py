from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from common.rpc.server import add_server_arguments, run_until_signalled


class Command(BaseCommand):
    help = (
        "Serve this service's gRPC API (plus grpc.health.v1 and reflection) until SIGTERM/SIGINT. "
        "The servicers come from the module named by the GRPC_SERVICERS setting."
    )

    def add_arguments(self, parser):
        add_server_arguments(parser, service=settings.SERVICE_NAME)

    def handle(self, *args, port: int, max_workers: int, **options):
        module = getattr(settings, "GRPC_SERVICERS", None)
        if not module:
            raise CommandError(f"the {settings.SERVICE_NAME} service has no gRPC API")
        run_until_signalled(
            add_servicers=import_string(f"{module}.add_servicers"),
            service_names=[import_string(f"{module}.SERVICE_NAME")],
            port=port,
            max_workers=max_workers,
            write=lambda line: self.stdout.write(line) or self.stdout.flush(),
        )
