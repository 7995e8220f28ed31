"""The embedded broker's kombu transport (see the package docstring for what it adds)."""

import logging
import os
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from queue import Empty

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

from common.broker.files import folders, locked, move_back
from common.broker.owners import current_owner, owner_alive

logger = logging.getLogger(__name__)

# How often a process that consumes looks for what dead processes left behind.
RECOVERY_SECONDS = 5.0

_STATES: dict[str, virtual.BrokerState] = {}


class QoS(virtual.QoS):
    def ack(self, delivery_tag):
        self.channel.settle(delivery_tag)
        super().ack(delivery_tag)
        self.channel.wake_consumer()

    def reject(self, delivery_tag, requeue=False):
        if requeue:
            self.channel.give_back(delivery_tag)
        else:
            self.channel.settle(delivery_tag)
        # The file went back to its own queue: the base class would route a copy through the
        # exchange again, to every queue bound to that key.
        super().reject(delivery_tag, requeue=False)
        self.channel.wake_consumer()

    def restore_unacked(self):
        self._flush()
        for delivery_tag in list(self._delivered):
            self.channel.give_back(delivery_tag)
        self._delivered.clear()
        return []


class Channel(filesystem.Channel):
    QoS = QoS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._no_ack_queues: set[str] = set()
        self._transient_declared: set[str] = set()
        configured = self.transport_options.get("unacked_folder")
        self.unacked_root = Path(configured or Path(self.data_folder_in).parent / "unacked")
        self.unacked_root.mkdir(parents=True, exist_ok=True)
        self._next_recovery = 0.0
        self._turn = 0
        self.recover_dead_owners()

    @property
    def transient_marks(self) -> Path:
        return self.control_folder / "transient"

    # messages

    def _put(self, queue, payload, **kwargs):
        # Named so that names sort in publishing order, across restarts too: kombu's unpadded
        # monotonic milliseconds put two messages of one millisecond in random order.
        name = f"{time.time_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        # Written aside, then renamed: a consumer never reads half a message.
        tmp = os.path.join(self.data_folder_out, f".{name}")
        try:
            with open(tmp, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.rename(tmp, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            with suppress(OSError):
                os.unlink(tmp)
            raise ChannelError(f"Cannot add {name!r} to {self.data_folder_out}") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        names = [name for name in self._listing() if name.partition(".")[2] == wanted]
        return self._claim_oldest(queue, names)

    def _get_many(self, queues, timeout=None):
        # kombu's cycle would list the folder once per consumed queue on every poll (a worker
        # consumes three on one channel); one listing serves them all, taken in turns.
        wanted = {f"{queue}.msg": queue for queue in queues}
        found: dict[str, list[str]] = {}
        for name in self._listing():
            queue = wanted.get(name.partition(".")[2])
            if queue is not None:
                found.setdefault(queue, []).append(name)
        self._turn = (self._turn + 1) % max(len(queues), 1)
        for queue in queues[self._turn :] + queues[: self._turn]:
            if queue in found:
                with suppress(Empty):
                    self.connection._deliver(self._claim_oldest(queue, found[queue]), queue)
                    return
        raise Empty()

    def _listing(self) -> list[str]:
        if time.monotonic() >= self._next_recovery:
            self.recover_dead_owners()
        return os.listdir(self.data_folder_in)

    def _claim_oldest(self, queue: str, names: list[str]) -> dict:
        """Claim the oldest message of `names` still there, or raise Empty."""
        if not names:
            raise Empty()
        mine = self.unacked_root / current_owner()
        mine.mkdir(exist_ok=True)
        for name in sorted(names):
            claimed = mine / name
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            payload = self._read_claimed(claimed)
            if payload is None:
                continue
            if queue in self._no_ack_queues:
                claimed.unlink()
            else:
                # One publish can land in several queues with one delivery tag; each copy
                # needs a tag of its own to be acked or given back on its own.
                payload["properties"]["delivery_tag"] = name
                self.connection.claimed[name] = claimed
            return payload
        raise Empty()

    def _read_claimed(self, claimed: Path) -> dict | None:
        try:
            payload = loads(bytes_to_str(claimed.read_bytes()))
            if not isinstance(payload.get("properties"), dict):
                raise ValueError("no message properties")
            return payload
        except (ValueError, AttributeError) as exc:
            # Kept aside for an operator: handed out again, it would stop every consumer.
            corrupt = self.unacked_root.parent / "corrupt"
            corrupt.mkdir(exist_ok=True)
            os.rename(claimed, corrupt / claimed.name)
            logger.error("unreadable message moved to %s: %r", corrupt / claimed.name, exc)
            return None

    def basic_consume(self, queue, no_ack, *args, **kwargs):
        if no_ack:
            self._no_ack_queues.add(queue)
        return super().basic_consume(queue, no_ack, *args, **kwargs)

    def basic_cancel(self, consumer_tag):
        self._no_ack_queues.discard(self._tag_to_queue.get(consumer_tag))
        return super().basic_cancel(consumer_tag)

    def basic_get(self, queue, no_ack=False, **kwargs):
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self.settle(message.delivery_tag)
        return message

    def settle(self, delivery_tag) -> None:
        """The consumer is done with the message: forget it for good."""
        if self.connection is None:
            return  # closed: what it held went back to its queue then
        claimed = self.connection.claimed.pop(delivery_tag, None)
        if claimed is not None:
            claimed.unlink(missing_ok=True)

    def wake_consumer(self) -> None:
        """A delivery was settled (maybe by a pool thread): the prefetch window has room again."""
        if self.connection is not None:
            self.connection.settled.set()

    def give_back(self, delivery_tag) -> None:
        """Put a claimed message back in its queue, where it was (its name keeps its place)."""
        if self.connection is None:
            return
        claimed = self.connection.claimed.pop(delivery_tag, None)
        if claimed is not None:
            move_back(claimed, Path(self.data_folder_in))

    # queues and their owners

    def queue_bind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
        # The exchange file is the truth: another process may have dropped a binding that this
        # process still remembers, so the file is written every time (it skips duplicates).
        self.state.binding_delete(queue, exchange or "amq.direct", routing_key)
        return super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)

    def queue_unbind(self, queue, exchange=None, routing_key="", arguments=None, **kwargs):
        # kombu's virtual unbind edits a copy of the table it read from the exchange file, so
        # the binding would stay: it is dropped from the file itself.
        exchange = exchange or "amq.direct"
        self.state.binding_delete(queue, exchange, routing_key)
        key, pattern, queue = self.typeof(exchange).prepare_bind(
            queue, exchange, routing_key, arguments
        )
        # Written as kombu's filesystem bind writes it: a missing pattern is "".
        row = filesystem.exchange_queue_t(key or "", pattern or "", queue or "")
        with locked(self._exchange_file(exchange)) as handle:
            if handle is None:
                return
            table = [filesystem.exchange_queue_t(*r) for r in loads(handle.read() or "[]")]
            if row in table:
                table.remove(row)
                handle.seek(0)
                handle.write(dumps(table))
                handle.truncate()

    def _new_queue(self, queue, **kwargs):
        transient = kwargs.get("auto_delete") or kwargs.get("exclusive")
        if transient and queue and not queue.startswith(".") and os.sep not in queue:
            self.transient_marks.mkdir(exist_ok=True)
            self._update_mark(queue, add=current_owner())
            self._transient_declared.add(queue)

    def close(self):
        if not self.closed:
            for queue in self._transient_declared:
                self._update_mark(queue, remove=current_owner())
            self._transient_declared.clear()
        super().close()

    def recover_dead_owners(self) -> None:
        """Requeue what dead processes had claimed; drop queues whose declarers all died."""
        self._next_recovery = time.monotonic() + RECOVERY_SECONDS
        queue_folder = Path(self.data_folder_in)
        for folder in folders(self.unacked_root):
            if owner_alive(folder.name):
                continue
            for claimed in folders(folder, files=True):
                move_back(claimed, queue_folder)
            # Another recovery may be emptying it too; whichever removes it last wins.
            with suppress(OSError):
                folder.rmdir()
        for mark in folders(self.transient_marks, files=True):
            self._update_mark(mark.name)

    def _update_mark(self, queue: str, *, add: str = "", remove: str = "") -> None:
        """Record who declared an auto-delete queue; drop it once none of them is alive."""
        mark = self.transient_marks / queue
        with locked(mark, create=bool(add)) as handle:
            if handle is None:
                return
            owners = {owner for owner in handle.read().split() if owner_alive(owner)}
            owners.discard(remove)
            if add:
                owners.add(add)
            if owners:
                handle.seek(0)
                handle.truncate()
                handle.write("\n".join(sorted(owners)))
                return
            self._drop_queue(queue)
            mark.unlink()

    def _drop_queue(self, queue: str) -> None:
        for table in self.control_folder.glob("*.exchange"):
            exchange = table.name.removesuffix(".exchange")
            for entry in self.get_table(exchange):
                if entry.queue == queue:
                    self._delete(queue, exchange, entry.routing_key, entry.pattern)
        self._purge(queue)
        self.state.queue_bindings_delete(queue)


class Transport(filesystem.Transport):
    Channel = Channel
    # Idle polls slow down from `polling_interval` to this; the first message resets them.
    max_polling_interval = 0.25

    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        options = client.transport_options
        self.max_polling_interval = max(
            options.get("max_polling_interval", self.max_polling_interval), self.polling_interval
        )
        self._pause = self.polling_interval
        # kombu keeps one in-memory record of declarations per process; a process that talks
        # to two folders (the tests do) must not skip a binding because the other has it.
        folder = options.get("control_folder", "")
        self.state = _STATES.setdefault(folder, virtual.BrokerState())
        # Claimed file by delivery tag, for every channel of the connection: a message may be
        # rejected through another channel than the one that took it.
        self.claimed: dict[str, Path] = {}
        self.settled = threading.Event()

    def drain_events(self, connection, timeout=None):
        # kombu polls an idle folder at one fixed rate; waking seven idle processes twenty
        # times a second costs more than the rest of an idle platform. Back off while idle.
        started = time.monotonic()
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
            except Empty:
                waited = time.monotonic() - started
                if timeout is not None and waited >= timeout:
                    raise TimeoutError from None  # socket.timeout, as kombu raises
                pause = self._pause if timeout is None else min(self._pause, timeout - waited)
                if self.settled.wait(pause):
                    # A task just finished: its worker may take the next message right now.
                    self.settled.clear()
                    self._pause = self.polling_interval
                else:
                    self._pause = min(self._pause * 2, self.max_polling_interval)
            else:
                self._pause = self.polling_interval
                return
