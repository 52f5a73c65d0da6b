"""No input makes ingest answer 5xx or crash: random headers, bodies and signed random JSON,
against the real app with its real database."""
from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings, strategies as st

from services.ingest.adapters.signature import sign

HOOK = "/webhooks/woocommerce"
TOPICS = st.sampled_from(["order.created", "order.updated", "order.deleted", "order.restored", "customer.created",
                          "customer.updated", "customer.deleted", "product.updated", "product.deleted",
                          "coupon.created", "action.woocommerce_x", "", "order", "..", "order.updated\x00"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
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


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(topic=TOPICS, body=st.one_of(ORDERISH, JSON), signed=st.booleans(),
       ctype=st.sampled_from(["application/json", "text/plain", "", "application/json; charset=utf-8"]))
async def test_signed_or_not_no_input_gives_5xx(ingest, topic, body, signed, ctype):
    raw = orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    headers = {"X-WC-Webhook-Source": ingest.source, "Content-Type": ctype}
    if topic:
        headers["X-WC-Webhook-Topic"] = topic.replace("\x00", "")
    if signed:
        headers["X-WC-Webhook-Signature"] = sign(ingest.secret, raw)
    r = await ingest.http.post(HOOK, content=raw, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text)
    if not signed and topic:
        assert r.status_code == 401


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300), headers=st.dictionaries(
    st.sampled_from(["X-WC-Webhook-Topic", "X-WC-Webhook-Source", "X-WC-Webhook-Signature", "Content-Type",
                     "Content-Length", "X-WC-Webhook-ID"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)))
async def test_random_bytes_and_headers_give_no_5xx(ingest, raw, headers):
    headers.pop("Content-Length", None)  # a lying length is the HTTP server's business, not ours
    r = await ingest.http.post(HOOK, content=raw, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text)
