"""Hostile and absurd webhook deliveries against a real ingest process (real PostgreSQL and Kafka):
signed real WooCommerce payloads carrying absurd values (absurd.py) in every field their
derivation reads, random combinations of them, signed random JSON, random bytes and headers.
Never a 5xx, never an answer the OpenAPI doesn't document, and afterwards the process is alive,
ready, and logged no unhandled failure."""
from __future__ import annotations

import os

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.ingest.adapters.signature import sign
from tests.integration.fuzz import absurd
from tests.integration.fuzz.run import AUTH, EXAMPLES, HOOK_STORE

HOOK = "/webhooks/woocommerce"
SIGNED_ANSWERS = {200, 400, 413}  # a delivery with a valid signature is stored or refused for its content
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck))


class Hook:
    def __init__(self, service, http: httpx.Client, documented: set[int]) -> None:
        self.service, self.http, self.documented = service, http, documented
        self.source, self.secret = f"https://{HOOK_STORE}.example/", f"secret-{os.urandom(12).hex()}"

    def send(self, raw: bytes, headers: dict) -> httpx.Response:
        r = self.http.post(HOOK, content=raw, headers=headers)
        return self.service.answer_after_outage(r.status_code,
                                                lambda: self.http.post(HOOK, content=raw, headers=headers)) or r

    def post(self, topic: str | None, raw: bytes, *, signed: bool = True,
             content_type: str = "application/json") -> httpx.Response:
        headers = {"X-WC-Webhook-Source": self.source, "Content-Type": content_type}
        if topic is not None:
            headers["X-WC-Webhook-Topic"] = topic
        if signed:
            headers["X-WC-Webhook-Signature"] = sign(self.secret, raw)
        return self.send(raw, headers)

    def check(self, r: httpx.Response, what) -> None:
        """No 5xx, a documented status, the JSON the document promises, and the process still up."""
        assert r.status_code < 500 and r.status_code in self.documented, (r.status_code, r.text[:300], what)
        body = r.json()
        assert set(body) in ({"outcome", "events"}, {"ok", "ping"}, {"error", "message"}), (body, what)
        assert self.service.alive(), self.service.log_tail()


@pytest.fixture(scope="module")
def hook(fuzzed):
    service = fuzzed["ingest"]
    with httpx.Client(base_url=service.url, timeout=30) as http:
        documented = {int(code) for code in http.get("/openapi.json").json()["paths"][HOOK]["post"]["responses"]}
        h = Hook(service, http, documented)
        r = http.post("/stores", headers=AUTH,
                      json={"store_id": HOOK_STORE, "source_url": h.source, "webhook_secret": h.secret})
        assert r.status_code == 201, r.text
        yield h


@pytest.mark.parametrize("value", [v.param for v in absurd.VALUES])
def test_an_absurd_value_in_any_field_is_stored_or_refused(hook, value, uid):
    """Each value in turn in every field an order, a customer or a product derivation reads."""
    for kind, paths in absurd.FIELDS.items():
        for path in paths:
            topic = absurd.TOPICS[kind][1]  # *.updated: derived like a creation when the resource is new
            r = hook.post(topic, absurd.render(absurd.resource(kind, uid), {path: value}))
            hook.check(r, (kind, path, value.label))
            if r.status_code == 200:
                assert r.json()["outcome"] in {"applied", "duplicate", "stale", "parked", "ignored_topic",
                                               "error_body", "invalid_resource"}, r.text


@settings(FUZZ, max_examples=EXAMPLES * 8)
@given(data=st.data())
def test_random_absurd_deliveries_are_stored_or_refused(hook, data):
    topic, raw = data.draw(absurd.deliveries(os.urandom(4).hex()))
    r = hook.post(topic, raw)
    hook.check(r, (topic, raw[:400]))
    assert r.status_code in SIGNED_ANSWERS, (r.status_code, r.text, raw[:400])


# What test_fuzz_no_5xx.py in tests/integration/ingest did in-process, now against the process.
TOPIC_NAMES = st.sampled_from(["order.created", "order.updated", "order.deleted", "order.restored", "customer.created",
                               "customer.updated", "customer.deleted", "product.updated", "product.deleted",
                               "coupon.created", "action.woocommerce_x", "", "order", "..", "ORDER.UPDATED",
                               "order.updated.x"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
                    | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=6),
                    max_leaves=25)
ORDERISH = st.fixed_dictionaries(
    {"id": st.one_of(st.integers(-5, 10**12), st.text(max_size=8), st.none())},
    optional={"status": st.one_of(st.text(max_size=12), st.sampled_from(["pending", "processing", "completed",
                                                                         "refunded", "checkout-draft"])),
              "date_modified_gmt": st.one_of(st.text(max_size=22), st.just("2026-01-01T00:00:00"), st.none()),
              "customer_id": st.one_of(st.integers(-3, 10**6), st.text(max_size=4), st.none()),
              "billing": st.one_of(JSON, st.fixed_dictionaries({"email": st.one_of(st.emails(), st.none())})),
              "total": st.one_of(st.text(max_size=8), st.decimals(allow_nan=False, allow_infinity=False).map(str)),
              "refunds": st.one_of(JSON, st.lists(st.fixed_dictionaries({"id": st.integers(0, 99),
                                                                         "total": st.text(max_size=8)}), max_size=3)),
              "line_items": JSON, "meta_data": JSON, "currency": st.text(max_size=4), "email": st.emails()})


@settings(FUZZ, max_examples=EXAMPLES * 5)
@given(topic=TOPIC_NAMES, body=st.one_of(ORDERISH, JSON), signed=st.booleans(),
       ctype=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-8"]))
def test_signed_or_not_random_json_gives_no_5xx(hook, topic, body, signed, ctype):
    raw = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    r = hook.post(topic or None, raw, signed=signed, content_type=ctype)
    hook.check(r, (topic, signed, ctype, raw[:300]))
    if not signed and topic:
        assert r.status_code == 401, r.text


@settings(FUZZ, max_examples=EXAMPLES * 3)
@given(raw=st.binary(max_size=300), headers=st.dictionaries(
    st.sampled_from(["X-WC-Webhook-Topic", "X-WC-Webhook-Source", "X-WC-Webhook-Signature", "Content-Type",
                     "X-WC-Webhook-ID", "X-WC-Webhook-Delivery-ID"]),
    # what an HTTP client can send at all: printable, no space at either end
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30).map(str.strip)))
def test_random_bytes_and_headers_give_no_5xx(hook, raw, headers):
    r = hook.send(raw, headers)
    hook.check(r, (headers, raw))


def test_ingest_is_still_healthy_afterwards(hook):
    """Run last in this module: whatever came before, the process is up and ready, and it logged no
    error (but the webhook_failed of a 500, which its case reports itself, and what a storage
    outage logs: conftest's errors_logged)."""
    assert hook.service.alive(), hook.service.log_tail()
    assert hook.http.get("/healthz").status_code == 200
    ready = hook.http.get("/readyz")
    assert ready.status_code == 200, ready.text
    errors = [line for line in hook.service.errors_logged() if '"webhook_failed"' not in line]
    assert not errors, "\n".join(errors[:20])
