"""The channels behind one interface, without a network: the email channel builds the store's email
(From, Reply-To, stable Message-ID) over FakeMailer; the webhook's body, Standard Webhooks headers
and the reading of a receiver's answer; the store's webhook settings refused at configuration
(not http(s), loopback/private outside development, a secret that isn't whsec_ + base64)."""
from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timezone

import orjson
import pytest
from pydantic import ValidationError
from standardwebhooks import Webhook

from services.notifier.adapters.email_channel import EmailChannel
from services.notifier.adapters.webhook_channel import signed_headers
from services.notifier.domain.channels import webhook_body, webhook_status_refusal
from services.notifier.domain.delivery import StoredMessage
from services.notifier.domain.store_settings import StoreSettings, is_private_host
from shared.errors import SendRefused
from shared.testing import FakeMailer

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone.utc)


def message(**over) -> StoredMessage:
    values = dict(message_id="0b6d9c1e-1111-5222-8333-444455556666", cause_event_id="evt-1",
                  cause_type="order.placed", customer_key="s1:c1", channel="email", template="order_thanks",
                  to_address="ana@example.com", subject="Thank you for order #7", body_text="Hi Ana",
                  body_html="<p>Hi Ana</p>", status="pending", attempts=0)
    values.update(over)
    return StoredMessage(**values)


async def test_email_goes_out_from_the_store_with_its_reply_to_and_a_stable_message_id():
    mailer = FakeMailer()
    store = StoreSettings(store_name="Kaffee & Co", from_address="orders@kaffee.example",
                          reply_to="help@kaffee.example")
    channel = EmailChannel(mailer)
    await channel.deliver(message(), store)
    await channel.deliver(message(), store)  # a repeat (the crash window): the same Message-ID
    first, again = mailer.sent
    assert first["From"].addresses[0].display_name == "Kaffee & Co"
    assert first["From"].addresses[0].addr_spec == "orders@kaffee.example"
    assert first["Reply-To"] == "help@kaffee.example"
    assert first["To"] == "ana@example.com" and first["Subject"] == "Thank you for order #7"
    assert first["Message-ID"] == again["Message-ID"] == "<0b6d9c1e-1111-5222-8333-444455556666@aftercart>"
    assert first["X-Aftercart-Store"] == "s1" and first["X-Aftercart-Template"] == "order_thanks"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]


async def test_email_from_keeps_a_named_address_and_replies_go_to_support_when_no_reply_to():
    mailer = FakeMailer()
    store = StoreSettings(store_name="Shop", from_address="Kaffee Team <team@kaffee.example>",
                          support_email="support@kaffee.example")
    await EmailChannel(mailer).deliver(message(), store)
    assert mailer.sent[0]["From"] == "Kaffee Team <team@kaffee.example>"
    assert mailer.sent[0]["Reply-To"] == "support@kaffee.example"


async def test_unbuildable_email_is_a_permanent_refusal_and_a_relay_refusal_passes_through():
    mailer = FakeMailer()
    with pytest.raises(SendRefused) as unbuildable:
        await EmailChannel(mailer).deliver(message(to_address="ana@example.com\r\nBcc: x@evil.example"),
                                           StoreSettings())
    assert (unbuildable.value.temporary, str(unbuildable.value)) == (False, "unbuildable: ValueError")
    mailer.refuse(451)
    with pytest.raises(SendRefused) as later:
        await EmailChannel(mailer).deliver(message(), StoreSettings())
    assert later.value.temporary is True and mailer.sent == []


def test_webhook_body_is_the_standard_webhooks_payload_shape():
    body = orjson.loads(webhook_body(message(), AT))
    assert body["type"] == "message.order_thanks"
    assert body["timestamp"] == "2026-03-01T09:30:15.123456Z"
    assert body["data"]["message_id"] == "0b6d9c1e-1111-5222-8333-444455556666"
    assert (body["data"]["to"], body["data"]["subject"], body["data"]["text"]) == (
        "ana@example.com", "Thank you for order #7", "Hi Ana")
    assert webhook_body(message(), AT) == webhook_body(message(), AT)  # signed bytes = sent bytes


def test_signed_headers_follow_the_spec_and_verify():
    body = webhook_body(message(), AT)
    headers = signed_headers(SECRET, "msg-1", AT, body)
    assert headers["webhook-id"] == "msg-1" and headers["webhook-timestamp"] == str(int(AT.timestamp()))
    # The spec, by hand: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>, key = base64 after whsec_.
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = b"msg-1." + headers["webhook-timestamp"].encode() + b"." + body
    assert headers["webhook-signature"] == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    other = "whsec_" + base64.b64encode(b"o" * 32).decode()
    assert headers["webhook-signature"] != signed_headers(other, "msg-1", AT, body)["webhook-signature"]


def test_signature_from_the_reference_verifier_round_trip():
    now = datetime.now(timezone.utc)
    body = webhook_body(message(), now)
    assert Webhook(SECRET).verify(body, signed_headers(SECRET, "msg-2", now, body))["type"] == "message.order_thanks"


@pytest.mark.parametrize("status,accepted,temporary", [
    (200, True, False), (204, True, False), (301, False, False), (400, False, False), (401, False, False),
    (404, False, False), (410, False, False), (408, False, True), (425, False, True), (429, False, True),
    (500, False, True), (502, False, True), (503, False, True),
])
def test_receiver_answers_are_read_like_smtp_replies(status, accepted, temporary):
    assert webhook_status_refusal(status) == (accepted, temporary)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hook", "https://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
    "http://192.168.0.7/hook", "http://172.20.0.1/hook", "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook", "http://[fd00::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://127.1/hook",
    "http://2130706433/hook", "http://0x7f.0.0.1/hook", "http://0.0.0.0/hook", "http://printer.local/hook",
])
def test_a_private_webhook_url_is_refused_outside_development_only(url):
    with pytest.raises(ValidationError, match="loopback or private"):
        StoreSettings.model_validate({"webhook_url": url}, context={"development": False})
    with pytest.raises(ValidationError):
        StoreSettings.model_validate({"webhook_url": url})  # no context: production rules
    assert StoreSettings.model_validate({"webhook_url": url}, context={"development": True}).webhook_url == url


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/x", "file:///etc/passwd", "javascript:alert(1)",
                                 "gopher://hooks.example.com/"])
def test_a_webhook_url_must_be_http_or_https(url):
    with pytest.raises(ValidationError, match="http"):
        StoreSettings.model_validate({"webhook_url": url}, context={"development": True})


def test_a_public_webhook_url_and_a_real_secret_are_accepted():
    s = StoreSettings.model_validate({"webhook_url": "https://hooks.example.com/aftercart", "webhook_secret": SECRET},
                                     context={"development": False})
    assert (s.webhook_url, s.webhook_secret) == ("https://hooks.example.com/aftercart", SECRET)
    assert not is_private_host("hooks.example.com") and not is_private_host("93.184.216.34")


@pytest.mark.parametrize("secret", ["hunter2", "whsec_", "whsec_not*base64!", "whsec_" + base64.b64encode(b"short").decode(),
                                    base64.b64encode(b"k" * 32).decode()])
def test_a_webhook_secret_must_be_whsec_and_base64_of_enough_bytes(secret):
    with pytest.raises(ValidationError, match="Standard Webhooks secret"):
        StoreSettings(webhook_secret=secret)


async def test_gatings_headers_go_out_with_the_email():
    mailer = FakeMailer()
    unsubscribe = {"List-Unsubscribe": "<https://shop.example/u/t0k3n>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    await EmailChannel(mailer).deliver(message(headers=unsubscribe, flow="review_request", marketing=True),
                                       StoreSettings())
    sent = mailer.sent[0]
    assert sent["List-Unsubscribe"] == "<https://shop.example/u/t0k3n>"
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_webhook_event_type_names_the_flow():
    body = orjson.loads(webhook_body(message(flow="order_welcome", template="order_welcome", locale="de_DE"), AT))
    assert body["type"] == "message.order_welcome" and body["data"]["locale"] == "de_DE"
