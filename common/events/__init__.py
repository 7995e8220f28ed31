"""The event backbone: CloudEvents on a topic exchange, outbox to publish, inbox to apply once.

    from common.events import publish
    publish("user.registered", {...})   # inside the transaction that made the change

Each service maps event types to handlers in `<service>_project/event_handlers.py`.
"""


def __getattr__(name):
    # Imported lazily: this package is also imported while settings load, before models may be.
    if name == "publish":
        from common.events.publisher import publish

        return publish
    raise AttributeError(name)
