"""The `DailyMetrics` projector: the per-day figures of the period reports."""

from datetime import UTC, date
from types import SimpleNamespace

from insights.models import DailyMetric, DailyViewer
from insights.projections.base import Projector
from insights.projections.rows import Table, insert_new

DAYS = Table(DailyMetric, ["generation", "day"])


class DailyMetrics(Projector):
    """Per UTC day figures for the period reports: the projection that is allowed to lag."""

    handlers = {
        "video.watched": "on_view",
        "analytics.view_recorded": "on_view",
        "payment.processed": "on_payment",
        "payment.refunded": "on_refund",
        "wallet.credited": "on_wallet_credited",
        "user.registered": "on_user_registered",
        "stream.started": "on_stream_started",
    }

    def __init__(self, generation: int, *, complete: bool, from_time=None):
        super().__init__(generation, complete=complete, from_time=from_time)
        self.days: dict[date, SimpleNamespace] = {}
        self.day_viewers: set[tuple[date, int]] = set()
        self._dirty: set[date] = set()
        self._maybe_new_viewers: list[tuple[date, int]] = []

    def prefetch(self, events: list) -> None:
        days = {self.day_of(e) for e in events} - self.days.keys()
        if days:
            for row in DAYS.load(generation=self.generation, day__in=days):
                self.days[row.day] = row

    def flush(self) -> None:
        pairs, self._maybe_new_viewers = self._maybe_new_viewers, []
        for day, _user_id in insert_new(DailyViewer, ("day", "user_id"), self.generation, pairs):
            # SQLite hands the date back as text, PostgreSQL as a date.
            self.metric(date.fromisoformat(str(day))).viewers += 1
        DAYS.write(self.days[d] for d in self._dirty)
        self._dirty.clear()

    @staticmethod
    def day_of(e) -> date:
        return e.occurred_at.astimezone(UTC).date()

    def metric(self, day: date) -> SimpleNamespace:
        row = self.days.get(day)
        if row is None:
            row = self.days[day] = DAYS.new(generation=self.generation, day=day)
        self._dirty.add(day)
        return row

    def on_view(self, e) -> None:
        metric = self.metric(self.day_of(e))
        metric.views += 1
        metric.watch_seconds += e.payload["watchSeconds"]
        key = (metric.day, e.payload["userId"])
        if key not in self.day_viewers:
            self.day_viewers.add(key)
            self._maybe_new_viewers.append(key)

    def on_payment(self, e) -> None:
        self.metric(self.day_of(e)).revenue += e.payload["amount"]

    def on_refund(self, e) -> None:
        # On the refund's own day: a report already given for the charge's day stays as it was.
        self.metric(self.day_of(e)).revenue -= e.payload["amount"]

    def on_wallet_credited(self, e) -> None:
        self.metric(self.day_of(e)).deposits += e.payload["amount"]

    def on_user_registered(self, e) -> None:
        self.metric(self.day_of(e)).new_users += 1

    def on_stream_started(self, e) -> None:
        self.metric(self.day_of(e)).streams_started += 1
