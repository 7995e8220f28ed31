"""Calls made at the same instant, as concurrent requests meet in production."""

import threading

from django.db import connection


def together(*calls) -> list:
    """Run `calls` in threads released at once; return each one's result (or the exception it
    raised) in order. Each thread closes its own database connection when done."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
