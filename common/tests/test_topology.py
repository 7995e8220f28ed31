"""The event topology converges on each service's handlers, on both brokers: a binding left by
an earlier deploy, to a type the service no longer handles, is removed when it starts again."""

import pytest
from kombu import Connection, Exchange, Producer, Queue

from common.broker import connect
from common.events import topology
from common.testing import backends
from common.testing.rabbitmq import private_vhost


@pytest.fixture(params=["embedded", "real"])
def broker(request, tmp_path):
    if request.param == "embedded":
        with connect(tmp_path / "broker") as connection:
            yield connection
        return
    if not backends.reachable(backends.amqp_url()):
        if backends.required():
            pytest.fail(f"RabbitMQ required but unreachable at {backends.amqp_url()}")
        pytest.skip("RabbitMQ unreachable")
    with private_vhost() as url, Connection(url) as connection:
        yield connection


def routed(connection, *types: str) -> list[str]:
    """Publish one event of each type, in order, and read back what reached probe's queue, up
    to the last one (the marker: everything sent before it has been routed by then)."""
    producer = Producer(connection.default_channel, exchange=topology.EVENTS_EXCHANGE)
    for type in types:
        producer.publish({"type": type}, routing_key=type, serializer="json")
    queue = connection.SimpleQueue(Queue("probe.events", no_declare=True))
    arrived = []
    try:
        while not arrived or arrived[-1] != types[-1]:
            message = queue.get(timeout=10)
            arrived.append(message.payload["type"])
            message.ack()
    finally:
        queue.close()
    return arrived


def test_the_prepare_step_removes_a_binding_to_a_type_no_longer_handled(broker, monkeypatch):
    handled = ["user.deleted", "user.registered"]
    monkeypatch.setattr(topology, "handled_types", lambda service: handled)
    topology.declare_topology(broker, "probe")
    assert routed(broker, "user.registered", "user.deleted") == ["user.registered", "user.deleted"]

    # A worker of the new version starting (or an old one restarting) only adds bindings.
    handled = ["user.deleted"]
    topology.declare_topology(broker, "probe")
    assert routed(broker, "user.registered", "user.deleted") == ["user.registered", "user.deleted"]

    topology.declare_topology(broker, "probe", prune=True)

    assert routed(broker, "user.registered", "video.ready", "user.deleted") == ["user.deleted"]


def test_the_embedded_broker_unbinds_from_a_direct_exchange_too(tmp_path):
    exchange = Exchange("probe.direct", type="direct")
    with connect(tmp_path / "broker") as connection:
        channel = connection.default_channel
        queue = Queue("probe.q", exchange=exchange, routing_key="dropped")(channel)
        queue.declare()
        queue.bind_to(exchange, routing_key="marker")
        queue.unbind_from(exchange, routing_key="dropped")

        producer = Producer(channel, exchange=exchange)
        for key in ("dropped", "marker"):
            producer.publish({"key": key}, routing_key=key, serializer="json")
        reader = connection.SimpleQueue(Queue("probe.q", no_declare=True))
        try:
            first = reader.get(timeout=10)
        finally:
            reader.close()

    assert first.payload == {"key": "marker"}
