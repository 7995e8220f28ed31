"""The embedded broker keeps what RabbitMQ keeps: a message taken by a process that dies is
delivered again, and the auto-delete queues of dead processes go away with them."""

import contextlib
import subprocess
import sys
import textwrap
import time

from kombu import Exchange, Queue

from common.broker import connect
from common.paths import REPO_ROOT

WORK = Exchange("work", type="direct")


def publish(root, exchange: Exchange, body: dict, routing_key: str = "work") -> None:
    with connect(root) as connection:
        connection.Producer().publish(
            body, exchange=exchange, routing_key=routing_key, serializer="json", declare=[exchange]
        )


def queued(root, queue: str) -> list:
    return sorted((root / "queue").glob(f"*.{queue}.msg"))


def claimed(root) -> list:
    return sorted((root / "unacked").glob("*/*.msg"))


def consumer(root, code: str) -> subprocess.Popen:
    """A separate process that takes messages as `code` says, prints "ready", then waits."""
    script = (
        textwrap.dedent(
            f"""
        import time
        from pathlib import Path
        from kombu import Exchange, Queue
        from common.broker import connect
        channel = connect(Path({str(root)!r})).default_channel
        """
        )
        + textwrap.dedent(code)
        + '\nprint("ready", flush=True)\ntime.sleep(600)\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    assert line.strip() == "ready", line
    return process


def declare_work_queue(root) -> None:
    with connect(root) as connection:
        Queue("work", WORK, routing_key="work")(connection.default_channel).declare()


def test_message_taken_by_a_killed_process_is_delivered_again(tmp_path):
    declare_work_queue(tmp_path)
    publish(tmp_path, WORK, {"n": 1})
    taker = consumer(
        tmp_path,
        """
        message = Queue("work", channel=channel).get(no_ack=False)
        assert message.payload == {"n": 1}
        """,
    )
    try:
        assert queued(tmp_path, "work") == []
        assert len(claimed(tmp_path)) == 1
    finally:
        taker.kill()
        taker.wait()

    with connect(tmp_path) as connection:
        message = Queue("work", channel=connection.default_channel).get(no_ack=False)
        assert message is not None and message.payload == {"n": 1}
        message.ack()
    assert queued(tmp_path, "work") == [] and claimed(tmp_path) == []


def test_acked_message_is_gone_and_unacked_one_returns_on_close(tmp_path):
    declare_work_queue(tmp_path)
    publish(tmp_path, WORK, {"n": 1})
    publish(tmp_path, WORK, {"n": 2})

    with connect(tmp_path) as connection:
        queue = Queue("work", channel=connection.default_channel)
        first = queue.get(no_ack=False)
        first.ack()
        second = queue.get(no_ack=False)
        assert (first.payload, second.payload) == ({"n": 1}, {"n": 2})
        assert len(claimed(tmp_path)) == 1
    # Closed without an ack: the second message is back, and only in its own queue.
    assert len(queued(tmp_path, "work")) == 1 and claimed(tmp_path) == []

    with connect(tmp_path) as connection:
        again = Queue("work", channel=connection.default_channel).get(no_ack=True)
        assert again.payload == {"n": 2}
    assert queued(tmp_path, "work") == [] and claimed(tmp_path) == []


def publish_to_two_subscribers(root) -> None:
    """One event on a topic exchange that copies it into `a.events` and `b.events`."""
    topic = Exchange("events", type="topic")
    with connect(root) as connection:
        channel = connection.default_channel
        for name in ("a.events", "b.events"):
            Queue(name, topic, routing_key="thing.happened")(channel).declare()
    publish(root, topic, {"n": 1}, routing_key="thing.happened")


def test_rejected_with_requeue_goes_back_to_its_own_queue_only(tmp_path):
    publish_to_two_subscribers(tmp_path)

    with connect(tmp_path) as connection:
        message = Queue("a.events", channel=connection.default_channel).get(no_ack=False)
        message.requeue()

    assert len(queued(tmp_path, "a.events")) == 1
    assert len(queued(tmp_path, "b.events")) == 1


def test_each_copy_of_one_publish_is_acked_on_its_own(tmp_path):
    publish_to_two_subscribers(tmp_path)

    with connect(tmp_path) as connection:
        channel = connection.default_channel
        copies = [
            Queue(name, channel=channel).get(no_ack=False) for name in ("a.events", "b.events")
        ]
        assert copies[0].delivery_tag != copies[1].delivery_tag
        for copy in copies:
            copy.ack()
        assert claimed(tmp_path) == []


def test_unreadable_message_is_set_aside_and_the_next_one_delivered(tmp_path):
    declare_work_queue(tmp_path)
    (tmp_path / "queue" / f"{0:020d}_junk.work.msg").write_text("{not json")
    publish(tmp_path, WORK, {"n": 1})

    with connect(tmp_path) as connection:
        message = Queue("work", channel=connection.default_channel).get(no_ack=False)
        assert message.payload == {"n": 1}
        message.ack()
    assert [p.name for p in (tmp_path / "corrupt").iterdir()] == [f"{0:020d}_junk.work.msg"]
    assert queued(tmp_path, "work") == [] and claimed(tmp_path) == []


def test_auto_delete_queue_goes_with_the_channel_that_declared_it(tmp_path):
    fanout = Exchange("monitor", type="fanout")
    with connect(tmp_path) as connection:
        Queue("monitor.mine", fanout, auto_delete=True)(connection.default_channel).declare()
        publish(tmp_path, fanout, {"beat": 1})
        assert len(queued(tmp_path, "monitor.mine")) == 1

    publish(tmp_path, fanout, {"beat": 2})
    assert queued(tmp_path, "monitor.mine") == []


def test_auto_delete_queue_stays_while_one_of_its_declarers_lives(tmp_path):
    declare = """
        Queue("monitor.shared", Exchange("monitor", type="fanout"), auto_delete=True)(
            channel
        ).declare()
        """
    first, second = consumer(tmp_path, declare), consumer(tmp_path, declare)
    fanout = Exchange("monitor", type="fanout")
    try:
        first.kill()
        first.wait()
        connect(tmp_path).default_channel.close()
        publish(tmp_path, fanout, {"beat": 1})
        assert len(queued(tmp_path, "monitor.shared")) == 1
    finally:
        second.kill()
        second.wait()
    connect(tmp_path).default_channel.close()
    publish(tmp_path, fanout, {"beat": 2})
    assert queued(tmp_path, "monitor.shared") == []


def test_auto_delete_queue_of_a_dead_process_is_dropped(tmp_path):
    fanout = Exchange("monitor", type="fanout")
    watcher = consumer(
        tmp_path,
        """
        Queue("monitor.watcher", Exchange("monitor", type="fanout"), auto_delete=True)(
            channel
        ).declare()
        """,
    )
    publish(tmp_path, fanout, {"beat": 1})
    assert len(queued(tmp_path, "monitor.watcher")) == 1
    watcher.kill()
    watcher.wait()

    # Opening a channel is when the leftovers of dead processes are cleaned up.
    connect(tmp_path).default_channel.close()
    publish(tmp_path, fanout, {"beat": 2})
    time.sleep(0.1)

    assert queued(tmp_path, "monitor.watcher") == []
    assert "monitor.watcher" not in (tmp_path / "control" / "monitor.exchange").read_text()


def test_auto_delete_queue_of_a_live_process_is_kept(tmp_path):
    watcher = consumer(
        tmp_path,
        """
        Queue("monitor.watcher", Exchange("monitor", type="fanout"), auto_delete=True)(
            channel
        ).declare()
        """,
    )
    try:
        connect(tmp_path).default_channel.close()
        publish(tmp_path, Exchange("monitor", type="fanout"), {"beat": 1})
        assert len(queued(tmp_path, "monitor.watcher")) == 1
    finally:
        watcher.kill()
        watcher.wait()


def test_idle_consumer_polls_less_and_less_and_a_message_resets_it(tmp_path):
    declare_work_queue(tmp_path)
    received = []
    with connect(tmp_path, polling_interval=0.01, max_polling_interval=0.08) as connection:
        queue = Queue("work", WORK, routing_key="work")
        with connection.Consumer(
            queue, callbacks=[lambda body, m: (received.append(body), m.ack())]
        ):
            transport = connection.transport
            polls = []
            get = transport.cycle.get
            transport.cycle.get = lambda *a, **k: (polls.append(1), get(*a, **k))[1]
            with contextlib.suppress(TimeoutError):
                connection.drain_events(timeout=0.6)
            # At a fixed 10 ms that would be some 60 polls; doubling up to 80 ms makes about 10.
            assert 5 <= len(polls) <= 15, len(polls)
            assert transport._pause == 0.08

            publish(tmp_path, WORK, {"n": 1})
            connection.drain_events(timeout=5)
            assert received == [{"n": 1}]
            assert transport._pause == 0.01
