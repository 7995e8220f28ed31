from itertools import count

from accounts import services
from accounts.models import User

_numbers = count(1)
PASSWORD = "password123"


def new_email() -> str:
    return f"viewer{next(_numbers)}@example.com"


def make_user(*, email: str | None = None, password: str = PASSWORD, **fields) -> User:
    return services.user_register(
        email=email or new_email(),
        password=password,
        first_name=fields.get("first_name", "Jane"),
        last_name=fields.get("last_name", "Doe"),
    )


def login(client, user: User, password: str = PASSWORD) -> dict:
    response = client.post(
        "/api/auth/login", {"email": user.email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
