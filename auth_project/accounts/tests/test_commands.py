import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_ensure_demo_user_prints_only_its_id_and_is_idempotent():
    first, second = _run("ensure_demo_user"), _run("ensure_demo_user")

    user = User.objects.get(email="demo@streamify.local")
    assert first == second == f"{user.id}\n"
    assert (user.first_name, user.last_name) == ("Demo", "Viewer")
    assert user.check_password("streamify-demo")


def test_ensure_demo_user_refuses_outside_dev_mode(monkeypatch):
    monkeypatch.setenv("STREAMIFY_DEV", "0")

    with pytest.raises(CommandError, match="embedded mode"):
        _run("ensure_demo_user")

    assert not User.objects.exists()
