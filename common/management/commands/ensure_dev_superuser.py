from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common import env

DEV_USER = "admin"
DEV_EMAIL = "admin@streamify.local"
DEV_PASSWORD = "streamify-admin"


class Command(BaseCommand):
    help = "Create the embedded-mode admin superuser if it does not exist (refused outside dev)."

    def handle(self, *args, **options):
        if not env.dev_mode():
            raise CommandError("the dev superuser exists only in embedded mode (STREAMIFY_DEV=1)")
        password = env.verbatim("STREAMIFY_ADMIN_PASSWORD") or DEV_PASSWORD
        User = get_user_model()
        login = DEV_EMAIL if User.USERNAME_FIELD == "email" else DEV_USER
        if User._default_manager.filter(**{User.USERNAME_FIELD: login}).exists():
            self.stdout.write(f"superuser {login} already exists")
            return
        fields = {field: "Admin" for field in User.REQUIRED_FIELDS}
        fields.update({User.USERNAME_FIELD: login, "email": DEV_EMAIL, "password": password})
        User._default_manager.create_superuser(**fields)
        self.stdout.write(f"created superuser {login}")
