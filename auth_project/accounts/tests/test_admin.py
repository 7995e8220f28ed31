import pytest

from accounts.models import User
from accounts.tests.conftest import events
from accounts.tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = User.objects.create_superuser(
        "root@example.com", "admin-pass", first_name="Ro", last_name="Ot"
    )
    client.force_login(admin)
    return client


def test_admin_lists_and_edits_users(admin_client):
    user = make_user(email="listed@example.com")

    listing = admin_client.get("/admin/accounts/user/")
    change = admin_client.get(f"/admin/accounts/user/{user.id}/change/")

    assert listing.status_code == 200 and b"listed@example.com" in listing.content
    assert change.status_code == 200


def test_admin_add_user_hashes_password_and_emits_registered(admin_client):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "email": "Added@Example.com",
            "first_name": "Ad",
            "last_name": "Ded",
            "password1": "a-Strong-pass-123",
            "password2": "a-Strong-pass-123",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(email="added@example.com")
    assert user.check_password("a-Strong-pass-123")
    assert [e["userId"] for e in events("user.registered")] == [user.id]


def test_admin_delete_goes_through_the_service(admin_client):
    user = make_user()

    response = admin_client.post(f"/admin/accounts/user/{user.id}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(id=user.id).exists()
    assert events("user.deleted") == [{"userId": user.id, "email": user.email}]
