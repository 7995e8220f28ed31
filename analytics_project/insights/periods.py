"""Report periods: UTC days, ISO weeks (from Monday) and calendar months, as buckets."""

from datetime import date, timedelta

PERIODS = ("daily", "weekly", "monthly")
DEFAULT_BUCKETS = {"daily": 30, "weekly": 12, "monthly": 12}
MAX_BUCKETS = 400


def bucket_start(period: str, day: date) -> date:
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    if period == "monthly":
        return day.replace(day=1)
    return day


def next_bucket(period: str, start: date) -> date:
    if period == "weekly":
        return start + timedelta(days=7)
    if period == "monthly":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def bucket_label(period: str, start: date) -> str:
    if period == "weekly":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "monthly":
        return start.strftime("%Y-%m")
    return start.isoformat()


def report_buckets(*, period: str, start: date, end: date) -> list[date]:
    """Bucket start dates covering [start, end] (UTC days; weeks start on Monday)."""
    buckets, current = [], bucket_start(period, start)
    while current <= end:
        buckets.append(current)
        current = next_bucket(period, current)
    return buckets


def report_default_range(*, period: str, today: date) -> tuple[date, date]:
    first = bucket_start(period, today)
    for _ in range(DEFAULT_BUCKETS[period] - 1):
        first = bucket_start(period, first - timedelta(days=1))
    return first, today
