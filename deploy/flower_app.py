"""The Celery app Flower watches: the platform's broker and nothing else.

Flower only reads the broker (task events, queues). Loading a service's Django project for
it, as `celery -A gateway_project flower` did, cost a whole Django process's memory for
nothing.
"""

from celery import Celery

from common.settings import celery_settings

app = Celery("flower")
app.conf.update(
    {
        key.removeprefix("CELERY_").lower(): value
        for key, value in celery_settings("gateway").items()
    }
)
