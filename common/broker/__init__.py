"""The embedded broker: kombu's filesystem transport, made to give back what a dead process took.

kombu's filesystem channel deletes a message file the moment a consumer takes it, so a worker
killed mid-task (or holding prefetched tasks) loses them where RabbitMQ would redeliver them.
Here a consumer claims a message by moving its file into `unacked/<owner>/` and deletes it only
on ack; a graceful close moves what it still holds back into the queue, and any process using
the broker does the same, every few seconds, for owners that died. Queues declared auto-delete
(Flower's event queues, remote-control replies) go away with the last process that declared
them, as on RabbitMQ; the filesystem transport alone would keep filling them forever.

Celery selects this transport for `filesystem://` through its `broker_transport` setting.
"""

from pathlib import Path

from kombu import Connection

TRANSPORT = "common.broker.transport:Transport"


def folder_options(root: Path) -> dict:
    """Transport options of the embedded broker kept under `root` (folders made if missing)."""
    folders = {name: root / name for name in ("queue", "control", "unacked")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "control_folder": str(folders["control"]),
        "unacked_folder": str(folders["unacked"]),
    }


def connect(root: Path, **options) -> Connection:
    """A connection to the embedded broker kept under `root`, as the services make it."""
    return Connection(
        "filesystem://", transport=TRANSPORT, transport_options={**folder_options(root), **options}
    )
