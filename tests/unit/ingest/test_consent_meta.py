"""Consent meta: order and customer events carry the meta entries that look like a consent
plugin's (so the notifier can read the key its store names), and nothing else of the meta."""
from __future__ import annotations

from services.ingest.domain import StoreContext, derive_order_events
from services.ingest.domain.consent_meta import MAX_ENTRIES, MAX_VALUE, consent_meta
from services.ingest.domain.customers import derive_customer_events
from tests.support.ingest_payloads import order_state

STORE = StoreContext(store_id="s1", locale="de_DE")


def test_only_consent_looking_scalars_are_carried():
    meta = [{"id": 1, "key": "_wc_newsletter_opt_in", "value": "yes"},
            {"id": 2, "key": "_billing_vat_number", "value": "DE123"},
            {"id": 3, "key": "mailpoet_woocommerce_checkout_optin", "value": 1},
            {"id": 4, "key": "gdpr_consent", "value": True},
            {"id": 5, "key": "marketing_prefs", "value": {"nested": "x"}},
            {"id": 6, "key": "_download_permissions_granted", "value": "yes"},
            "not an entry"]
    assert consent_meta(meta) == {"_wc_newsletter_opt_in": "yes", "mailpoet_woocommerce_checkout_optin": "1",
                                  "gdpr_consent": "yes"}
    assert consent_meta([]) is None and consent_meta(None) is None and consent_meta("x") is None


def test_entries_and_values_are_bounded():
    meta = [{"key": f"newsletter_{n}", "value": "y" * 500} for n in range(50)]
    out = consent_meta(meta)
    assert len(out) == MAX_ENTRIES and all(len(v) == MAX_VALUE for v in out.values())


def test_order_and_customer_events_carry_it():
    state = order_state("processing", 0)
    state["meta_data"] = [*state.get("meta_data", []), {"id": 9, "key": "_wc_newsletter_opt_in", "value": "yes"}]
    placed = derive_order_events(STORE, None, state, "order.created").events[0].envelope
    assert placed.data["consent_meta"] == {"_wc_newsletter_opt_in": "yes"}
    plain = derive_order_events(STORE, None, order_state("processing", 0), "order.created").events[0].envelope
    assert plain.data["consent_meta"] is None

    customer = {"id": 25, "email": "ana@example.com", "first_name": "Ana", "role": "customer",
                "date_created_gmt": "2026-03-01T09:00:00", "date_modified_gmt": "2026-03-01T09:00:00",
                "billing": {"email": "ana@example.com"},
                "meta_data": [{"id": 1, "key": "marketing_consent", "value": "no"}]}
    events = derive_customer_events(STORE, None, customer, "customer.created").events
    registered = next(e.envelope for e in events if e.envelope.type == "customer.registered")
    assert registered.data["consent_meta"] == {"marketing_consent": "no"}
