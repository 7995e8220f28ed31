"""The one exception handler answers a service's refusals as each one says, in the envelope."""

from django.test import RequestFactory

from common.errors import DomainError, exception_handler


class OutOfRange(DomainError):
    status, message = 416, "Range not satisfiable"

    def __init__(self, size: int):
        super().__init__(f"past {size}")
        self.size = size

    def details(self) -> list[dict]:
        return [{"range": str(self)}]

    def fields(self) -> dict:
        return {"size": self.size}

    def headers(self) -> dict:
        return {"Content-Range": f"bytes */{self.size}"}


class Unnamed(DomainError):
    status = 409


def test_a_refusal_is_answered_with_its_status_envelope_fields_and_headers():
    request = RequestFactory().get("/media")
    response = exception_handler(OutOfRange(10), {"request": request})

    assert response.status_code == 416
    assert response.data == {
        "error": "Range not satisfiable",
        "details": [{"range": "past 10"}],
        "size": 10,
    }
    assert response["Content-Range"] == "bytes */10"


def test_a_refusal_without_a_message_says_what_it_was_raised_with():
    request = RequestFactory().get("/videos/3")
    response = exception_handler(Unnamed("video 3 is still processing"), {"request": request})

    assert (response.status_code, response.data) == (
        409,
        {"error": "video 3 is still processing", "details": []},
    )


def test_a_refusal_that_left_a_body_unread_closes_the_connection():
    request = RequestFactory().post("/media", data=b"x" * 10, content_type="text/plain")
    response = exception_handler(Unnamed("no"), {"request": request})

    assert response["Connection"] == "close"
