import jwt
import pytest
from django.conf import settings

from accounts.models import User
from accounts.tests.conftest import events
from accounts.tests.factories import PASSWORD, bearer, login, make_user, new_email

pytestmark = pytest.mark.django_db

REGISTER = "/api/auth/register"
VALID = {
    "email": "John.Doe@Example.com",
    "password": "password123",
    "firstName": "John",
    "lastName": "Doe",
}


def register(api, **changes):
    body = {**VALID, **changes}
    return api.post(REGISTER, {k: v for k, v in body.items() if v is not ...}, format="json")


# --- register ---------------------------------------------------------------------------------


def test_register_creates_user_with_lowercased_email(api):
    response = register(api)

    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "User registered successfully"
    user = User.objects.get()
    assert body["user"] == {
        "id": user.id,
        "email": "john.doe@example.com",
        "firstName": "John",
        "lastName": "Doe",
    }
    assert user.check_password("password123")
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": ...}, "email"),
        ({"password": ...}, "password"),
        ({"firstName": ...}, "firstName"),
        ({"lastName": ...}, "lastName"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@x.io"}, "email"),
        ({"email": 42}, "email"),
        ({"password": "short77"}, "password"),
        ({"password": "p" * 65}, "password"),
        ({"password": 12345678}, "password"),
        ({"password": None}, "password"),
        ({"firstName": "J"}, "firstName"),
        ({"firstName": "J" * 51}, "firstName"),
        ({"firstName": 12}, "firstName"),
        ({"firstName": ["John"]}, "firstName"),
        ({"lastName": "D"}, "lastName"),
        ({"lastName": "D" * 51}, "lastName"),
        ({"lastName": True}, "lastName"),
        ({"isStaff": True}, "isStaff"),
        ({"is_staff": True, "role": "admin"}, "is_staff"),
    ],
)
def test_register_rejects_each_invalid_field_and_creates_nothing(api, changes, field):
    response = register(api, **changes)

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Validation failed"
    assert field in {d["field"] for d in body["details"]}, body
    assert User.objects.count() == 0
    assert events("user.registered") == []


def test_register_accepts_boundary_lengths(api):
    response = register(api, password="p" * 64, firstName="J" * 50, lastName="Do")

    assert response.status_code == 201
    assert User.objects.get().first_name == "J" * 50


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"email": "x@example.com", ', "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"just a string"', "application/json"),
        ("null", "application/json"),
        ("email=x@example.com", "application/x-www-form-urlencoded"),
    ],
)
def test_register_rejects_bodies_that_are_not_a_json_object(api, body, content_type):
    response = api.generic("POST", REGISTER, body, content_type=content_type)

    assert response.status_code in (400, 415)
    assert set(response.json()) == {"error", "details"}
    assert User.objects.count() == 0


def test_register_huge_body_is_413_with_error_shape(api):
    response = register(api, firstName="J" * 100_000)

    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"
    assert User.objects.count() == 0


def test_register_same_email_in_other_case_is_409(api):
    assert register(api, email="john@example.com").status_code == 201

    response = register(api, email="JOHN@EXAMPLE.COM")

    assert response.status_code == 409
    assert response.json() == {"error": "Email already registered", "details": []}
    assert User.objects.count() == 1
    assert len(events("user.registered")) == 1


# --- login ------------------------------------------------------------------------------------


def test_login_returns_access_and_refresh_tokens_with_claims(api):
    user = make_user(email="viewer@example.com", first_name="Ada", last_name="Lovelace")

    response = api.post(
        "/api/auth/login", {"email": "Viewer@Example.com", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"message", "token", "refreshToken"}
    claims = jwt.decode(
        body["token"],
        settings.SIMPLE_JWT["VERIFYING_KEY"],
        algorithms=["RS256"],
        audience="streamify",
        issuer="streamify-auth",
    )
    assert jwt.get_unverified_header(body["token"])["alg"] == "RS256"
    assert claims["token_type"] == "access"
    assert claims["user_id"] == user.id
    assert (claims["email"], claims["firstName"], claims["lastName"]) == (
        "viewer@example.com",
        "Ada",
        "Lovelace",
    )
    assert claims["is_staff"] is False
    assert jwt.decode(body["refreshToken"], options={"verify_signature": False})["token_type"] == (
        "refresh"
    )


@pytest.mark.parametrize("email", ["viewer@example.com", "nobody@example.com"])
def test_login_bad_credentials_is_401_whether_or_not_the_email_exists(api, email):
    make_user(email="viewer@example.com")

    response = api.post(
        "/api/auth/login", {"email": email, "password": "wrong-pass"}, format="json"
    )

    assert response.status_code == 401
    assert response.json() == {"error": "Invalid email or password", "details": []}
    assert events("user.logged_in") == []


def test_login_inactive_user_is_401(api):
    user = make_user()
    User.objects.filter(id=user.id).update(is_active=False)

    response = api.post(
        "/api/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@b.c"},
        {"email": 1, "password": "x"},
        {"email": "a@b.c", "password": "x", "x": 1},
    ],
)
def test_login_malformed_is_400(api, body):
    response = api.post("/api/auth/login", body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "Validation failed"


# --- refresh and logout -----------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_is_dead(api):
    tokens = login(api, make_user())

    first = api.post(
        "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    )
    again = api.post(
        "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    )

    assert first.status_code == 200
    rotated = first.json()
    assert set(rotated) == {"token", "refreshToken"}
    assert rotated["refreshToken"] != tokens["refreshToken"]
    assert again.status_code == 401
    assert "blacklisted" in again.json()["error"]
    # The new pair works: its access token verifies, its refresh token refreshes once more.
    assert api.post("/api/auth/verify", **bearer(rotated["token"])).status_code == 200
    next_round = api.post(
        "/api/auth/token/refresh", {"refreshToken": rotated["refreshToken"]}, format="json"
    )
    assert next_round.status_code == 200


def test_refresh_carries_current_profile_claims(api):
    user = make_user(first_name="Old")
    tokens = login(api, user)
    api.put("/api/auth/profile", {"firstName": "New"}, format="json", **bearer(tokens["token"]))

    rotated = api.post(
        "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    ).json()

    assert jwt.decode(rotated["token"], options={"verify_signature": False})["firstName"] == "New"


def test_refresh_refuses_access_tokens_and_garbage(api):
    tokens = login(api, make_user())

    for candidate in [tokens["token"], "garbage", tokens["refreshToken"][:-4] + "AAAA"]:
        response = api.post("/api/auth/token/refresh", {"refreshToken": candidate}, format="json")
        assert response.status_code == 401, candidate
        assert response.json()["error"].startswith("Invalid refresh token")


def test_refresh_of_deleted_user_is_401(api):
    user = make_user()
    tokens = login(api, user)
    user.delete()

    response = api.post(
        "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    )

    assert response.status_code == 401


def test_logout_revokes_the_refresh_token(api):
    tokens = login(api, make_user())

    response = api.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")
    refresh = api.post(
        "/api/auth/token/refresh", {"refreshToken": tokens["refreshToken"]}, format="json"
    )
    twice = api.post("/api/auth/logout", {"refreshToken": tokens["refreshToken"]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"message": "Logged out: the refresh token is revoked"}
    assert refresh.status_code == 401
    assert twice.status_code == 401


def test_logout_without_token_is_400(api):
    assert api.post("/api/auth/logout", {}, format="json").status_code == 400


# --- verify and profile -----------------------------------------------------------------------


def test_verify_returns_the_user_of_the_token(api):
    user = make_user(first_name="Ada")
    tokens = login(api, user)

    response = api.post("/api/auth/verify", **bearer(tokens["token"]))

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "email": user.email,
        "firstName": "Ada",
        "lastName": "Doe",
    }


def test_verify_without_token_is_401_and_bad_token_is_403(api):
    assert api.post("/api/auth/verify").status_code == 401
    response = api.post("/api/auth/verify", **bearer("not.a.token"))
    assert response.status_code == 403
    assert response.json()["error"].startswith("Invalid token")


def test_verify_refuses_token_of_deleted_or_deactivated_user(api):
    gone, inactive = make_user(), make_user()
    gone_token, inactive_token = login(api, gone)["token"], login(api, inactive)["token"]
    gone.delete()
    User.objects.filter(id=inactive.id).update(is_active=False)

    for token in (gone_token, inactive_token):
        response = api.post("/api/auth/verify", **bearer(token))
        assert response.status_code == 403
        assert "no longer exists or is inactive" in response.json()["error"]


def test_profile_get_and_put(api):
    user = make_user(first_name="Ada", last_name="Byron")
    headers = bearer(login(api, user)["token"])

    got = api.get("/api/auth/profile", **headers)
    put = api.put("/api/auth/profile", {"lastName": "Lovelace"}, format="json", **headers)

    assert got.status_code == 200
    assert got.json()["email"] == user.email and got.json()["lastName"] == "Byron"
    assert got.json()["_id"] == got.json()["id"] == user.id
    assert put.status_code == 200
    assert put.json()["message"] == "Profile updated successfully"
    assert put.json()["user"]["lastName"] == "Lovelace"
    assert put.json()["user"]["firstName"] == "Ada"
    user.refresh_from_db()
    assert user.last_name == "Lovelace"


@pytest.mark.parametrize(
    "body",
    [{}, {"firstName": "A"}, {"lastName": 5}, {"email": "new@example.com"}, {"password": "x" * 10}],
)
def test_profile_put_rejects_invalid_changes(api, body):
    user = make_user(first_name="Ada")
    headers = bearer(login(api, user)["token"])

    response = api.put("/api/auth/profile", body, format="json", **headers)

    assert response.status_code == 400
    user.refresh_from_db()
    assert (user.first_name, user.email) == ("Ada", user.email)


def test_profile_requires_a_token(api):
    assert api.get("/api/auth/profile").status_code == 401


# --- internal delete --------------------------------------------------------------------------


def _service_header(audience="auth", scopes=("users:delete",), issuer="gateway") -> dict:
    from common.testing.tokens import service_header

    return {
        "HTTP_AUTHORIZATION": service_header(issuer, audience=audience, scopes=scopes)[
            "Authorization"
        ]
    }


def test_internal_delete_refuses_anonymous_and_user_tokens(api):
    user = make_user()
    staff = make_user()
    User.objects.filter(id=staff.id).update(is_staff=True)
    url = f"/api/auth/users/{user.id}"

    anonymous = api.delete(url)
    as_user = api.delete(url, **bearer(login(api, user)["token"]))
    as_staff = api.delete(url, **bearer(login(api, staff)["token"]))
    user_token_as_service = api.delete(
        url, HTTP_AUTHORIZATION=f"Service {login(api, user)['token']}"
    )

    assert anonymous.status_code == 401
    assert as_user.status_code == 401
    assert as_staff.status_code == 401
    assert user_token_as_service.status_code == 403
    assert "Invalid service token" in user_token_as_service.json()["error"]
    assert User.objects.filter(id=user.id).exists()
    assert events("user.deleted") == []


def test_internal_delete_refuses_wrong_scope_audience_or_caller(api):
    user = make_user()
    url = f"/api/auth/users/{user.id}"

    wrong_scope = api.delete(url, **_service_header(scopes=["wallets:delete"]))
    wrong_audience = api.delete(url, **_service_header(audience="billing"))
    another_service = api.delete(url, **_service_header(issuer="video"))

    assert wrong_scope.status_code == 403
    assert wrong_audience.status_code == 403
    assert another_service.status_code == 403
    assert another_service.json()["error"] == "This endpoint does not accept calls from video"
    assert User.objects.filter(id=user.id).exists()


def test_internal_delete_with_service_credentials_deletes_once(api):
    user = make_user()
    url = f"/api/auth/users/{user.id}"

    first = api.delete(url, **_service_header())
    second = api.delete(url, **_service_header())

    assert first.status_code == 200
    assert first.json() == {
        "message": "User deleted successfully (compensation)",
        "userId": user.id,
        "deleted": True,
    }
    assert second.status_code == 200
    assert second.json() == {"message": "No such user", "userId": user.id, "deleted": False}
    assert not User.objects.filter(id=user.id).exists()
    assert events("user.deleted") == [{"userId": user.id, "email": user.email}]


def test_internal_delete_out_of_range_id_is_not_a_500(api):
    response = api.delete("/api/auth/users/99999999999999999999999", **_service_header())

    assert response.status_code == 404
    assert response.json() == {"error": "No such user", "details": []}


def test_unknown_route_is_json_404(api):
    response = api.get("/api/auth/nope")

    assert response.status_code == 404
    assert response.json()["error"] == "Not found"


def test_new_email_factory_is_unique():
    assert new_email() != new_email()
