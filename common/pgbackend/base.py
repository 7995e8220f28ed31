"""Django's PostgreSQL backend, pinging a kept connection only after it sat idle.

Django's CONN_HEALTH_CHECKS sends a `SELECT 1` before each request's first query: under load
that doubled the round trips of a cheap read. A connection used less than `IDLE_SECONDS` ago is
trusted instead; one idle longer (a database restarted while the service was quiet) is checked
and replaced before the request uses it.
"""

import time

from django.db.backends.postgresql import base

IDLE_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _used_at = 0.0

    def close_if_health_check_failed(self):
        now = time.monotonic()
        recently = self.connection is not None and now - self._used_at < IDLE_SECONDS
        self._used_at = now
        if recently:
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
