"""The signed outgoing webhook against a real local receiver (an HTTP server in this test, on
127.0.0.1) that verifies every delivery's Standard Webhooks signature the way a store's endpoint
would: with the reference library, and by the spec's formula by hand. A receiver that answers 503
gets the same message (same webhook-id) again, a wrong secret fails verification, and a name
that resolves to loopback is refused outside development."""
from __future__ import annotations

import base64
import socket

import orjson
import pytest

from services.notifier.adapters.webhook_channel import WebhookChannel
from services.notifier.domain.delivery import StoredMessage
from services.notifier.domain.store_settings import StoreSettings, is_private_host
from shared.errors import SendRefused
from tests.support.webhook_receiver import Receiver

SECRET = "whsec_" + base64.b64encode(b"receiver-test-key-32-bytes-long!").decode()


@pytest.fixture
def receiver():
    r = Receiver(SECRET)
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _message(uid: str) -> StoredMessage:
    return StoredMessage(message_id=f"msg-{uid}", cause_event_id=f"evt-{uid}", cause_type="order.shipped",
                         customer_key=f"s-{uid}:c1", channel="webhook", template="order_shipped",
                         to_address="ana@example.com", subject="Your order #7 has shipped",
                         body_text="Tracking number: 1175", body_html="<p>…</p>", status="pending", attempts=0)


async def test_a_delivery_verifies_at_the_receiver(receiver, uid):
    channel = WebhookChannel(development=True)
    store = StoreSettings.model_validate({"webhook_url": receiver.url, "webhook_secret": SECRET},
                                         context={"development": True})
    await channel.deliver(_message(uid), store)
    await channel.close()
    [got] = receiver.requests
    assert got["verified"] and got["by_hand"]
    assert got["path"] == "/hooks/aftercart" and got["headers"]["content-type"] == "application/json"
    assert got["headers"]["webhook-id"] == f"msg-{uid}"
    body = orjson.loads(got["body"])
    assert body["type"] == "message.order_shipped"
    assert (body["data"]["message_id"], body["data"]["text"]) == (f"msg-{uid}", "Tracking number: 1175")


async def test_a_failing_receiver_gets_the_same_message_again(receiver, uid):
    channel = WebhookChannel(development=True)
    store = StoreSettings.model_validate({"webhook_url": receiver.url, "webhook_secret": SECRET},
                                         context={"development": True})
    receiver.statuses = [503, 429]
    for status in (503, 429):
        with pytest.raises(SendRefused) as refused:
            await channel.deliver(_message(uid), store)
        assert (refused.value.temporary, refused.value.code) == (True, status)
    await channel.deliver(_message(uid), store)
    receiver.statuses = [410]
    with pytest.raises(SendRefused) as gone:
        await channel.deliver(_message(uid), store)
    assert (gone.value.temporary, gone.value.code) == (False, 410)
    await channel.close()
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [f"msg-{uid}"] * 4  # the receiver can dedupe
    assert all(r["verified"] and r["by_hand"] for r in receiver.requests)


async def test_a_wrong_secret_does_not_verify(receiver, uid):
    channel = WebhookChannel(development=True)
    other = "whsec_" + base64.b64encode(b"some-other-stores-key-32-bytes!!").decode()
    store = StoreSettings.model_validate({"webhook_url": receiver.url, "webhook_secret": other},
                                         context={"development": True})
    await channel.deliver(_message(uid), store)
    await channel.close()
    [got] = receiver.requests
    assert not got["verified"] and not got["by_hand"]


async def test_an_unreachable_receiver_is_temporary_and_a_missing_setting_permanent(uid):
    channel = WebhookChannel(development=True, timeout_s=2.0)
    closed = Receiver(SECRET)
    url = closed.url
    closed.server.server_close()  # nobody listens there any more
    store = StoreSettings.model_validate({"webhook_url": url, "webhook_secret": SECRET}, context={"development": True})
    with pytest.raises(SendRefused) as refused:
        await channel.deliver(_message(uid), store)
    assert refused.value.temporary is True
    with pytest.raises(SendRefused) as unset:
        await channel.deliver(_message(uid), StoreSettings())
    assert unset.value.temporary is False
    await channel.close()


async def test_outside_development_a_name_resolving_privately_is_refused_at_send(receiver, uid):
    # This machine's own name is a name, so configuration (no DNS in the domain) lets it pass even
    # outside development; it resolves to this machine (loopback or its private address), so the
    # channel refuses it for good when sending, before any request leaves.
    host = socket.gethostname()
    assert is_private_host(socket.gethostbyname(host))  # what the machine's resolver says, not a guess of ours
    url = receiver.url.replace("127.0.0.1", host)
    store = StoreSettings.model_validate({"webhook_url": url, "webhook_secret": SECRET}, context={"development": False})
    channel = WebhookChannel(development=False)
    with pytest.raises(SendRefused) as refused:
        await channel.deliver(_message(uid), store)
    assert refused.value.temporary is False and "private" in str(refused.value)
    await channel.close()
    assert receiver.requests == []
