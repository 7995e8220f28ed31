"""pybreaker's storage over named fields, the part the board and Redis storages share."""

from datetime import UTC, datetime

import pybreaker


def _timestamp(value: float) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat() if value else None


class FieldStorage(pybreaker.CircuitBreakerStorage):
    """A breaker's counters and times as named fields (`fail_counter`, `opened_at`, ...) of one
    record. Subclasses read a field (`_get`), set several at once (`_put`), add one to a counter
    (`_add`) and say how the last error is kept (`_last_error`)."""

    def _get(self, field: str):
        raise NotImplementedError

    def _put(self, **values) -> None:
        raise NotImplementedError

    def _add(self, field: str) -> None:
        raise NotImplementedError

    def _last_error(self) -> str:
        raise NotImplementedError

    def increment_counter(self) -> None:
        self._add("fail_counter")

    def reset_counter(self) -> None:
        # pybreaker resets after every success: reading first keeps the happy path write-free.
        if self._get("fail_counter"):
            self._put(fail_counter=0)

    def increment_success_counter(self) -> None:
        self._add("success_counter")

    def reset_success_counter(self) -> None:
        if self._get("success_counter"):
            self._put(success_counter=0)

    @property
    def counter(self) -> int:
        return self._get("fail_counter")

    @property
    def success_counter(self) -> int:
        return self._get("success_counter")

    @property
    def opened_at(self) -> datetime | None:
        value = self._get("opened_at")
        return datetime.fromtimestamp(value, UTC) if value else None

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._put(opened_at=value.timestamp())

    def record_rejection(self) -> None:
        self._add("rejected")

    def extras(self) -> dict:
        """What the breaker's stats show beyond pybreaker's own fields."""
        return {
            "lastStateChange": _timestamp(self._get("last_state_change")),
            "totalFailures": self._get("total_failures"),
            "rejected": self._get("rejected"),
            "lastFailureAt": _timestamp(self._get("last_failure_at")),
            "lastError": self._last_error() or None,
        }
