"""Customer payloads → customer.registered / .updated / .linked / .erased."""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain import APPLIED, DUPLICATE, ERROR_BODY, IGNORED, STALE, StoreContext, derive_customer_events
from shared.events.envelope import event_id
from shared.ids import customer_key
from tests.support.ingest_payloads import Chain, assert_valid, payload, types

STORE = StoreContext(store_id="s1")
NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)


def customer(minute: int = 30, **over) -> dict:
    body = payload("customer.v3.docs.json")
    body["date_modified_gmt"] = f"2017-03-21T19:{minute:02d}:30"
    body.update(over)
    return body


def test_created_is_registered_then_linked_from_the_guest_email_key():
    result = derive_customer_events(STORE, None, payload("customer.v3.docs.json"), "customer.created")
    assert result.outcome == APPLIED
    assert types(result) == ["customer.registered", "customer.linked"]
    assert_valid(result.events)
    registered, linked = result.events
    assert {e.key for e in result.events} == {"s1:c25"} and registered.topic == "customers.v1"
    assert registered.envelope.subject == "customer/s1:c25"
    assert registered.envelope.data == {
        "store_id": "s1", "customer_id": 25, "key": "s1:c25", "email": "john.doe@example.com", "first_name": "John",
        "last_name": "Doe", "role": "customer", "locale": None, "is_paying_customer": False, "billing_country": "US",
        "date_created": "2017-03-21T19:09:28Z", "consent_meta": None}
    assert registered.envelope.time == datetime(2017, 3, 21, 19, 9, 28, tzinfo=timezone.utc)
    assert registered.envelope.id == event_id("s1", "customer", 25, "2017-03-21T19:09:28", "customer.registered", None)
    guest = customer_key("s1", 0, "john.doe@example.com")
    assert linked.envelope.data == {"store_id": "s1", "from_key": guest, "to_key": "s1:c25"}
    assert linked.envelope.id == event_id("s1", "customer", 25, None, "customer.linked", guest)
    assert "john" not in str(result.snapshot)


def test_a_different_billing_email_is_linked_too():
    body = payload("customer.v3.docs.json")
    body["billing"]["email"] = " Shop@Example.com "
    result = derive_customer_events(STORE, None, body, "customer.created")
    assert [e.envelope.data["from_key"] for e in result.events[1:]] == [
        customer_key("s1", 0, "john.doe@example.com"), customer_key("s1", 0, "shop@example.com")]


def test_updated_only_when_something_carried_changed():
    c = Chain(derive_customer_events)
    c.deliver(customer(30), "customer.created")
    c.deliver(customer(31, avatar_url="https://secure.gravatar.com/avatar/other"), "customer.updated")
    assert c.outcomes[-1] == APPLIED and c.types == ["customer.registered", "customer.linked"]
    c.deliver(customer(32, last_name="Smith"), "customer.updated")
    assert c.types[-1] == "customer.updated"
    assert c.of_type("customer.updated")[0].envelope.data["last_name"] == "Smith"
    assert c.deliver(customer(32, last_name="Smith"), "customer.updated").outcome == DUPLICATE
    assert c.deliver(customer(31), "customer.updated").outcome == STALE
    assert_valid(c.events)


def test_new_email_is_updated_and_linked():
    c = Chain(derive_customer_events)
    c.deliver(customer(30), "customer.created")
    body = customer(33, email="new@example.com")
    body["billing"]["email"] = "new@example.com"
    c.deliver(body, "customer.updated")
    assert c.types[-2:] == ["customer.updated", "customer.linked"]
    assert c.events[-1].envelope.data["from_key"] == customer_key("s1", 0, "new@example.com")


def test_updated_before_created_still_announces_the_registration_once():
    c = Chain(derive_customer_events)
    c.deliver(customer(30), "customer.updated")  # separate webhooks: no ordering between them
    c.deliver(customer(30), "customer.created")
    c.deliver(customer(30), "customer.created")
    assert c.types == ["customer.updated", "customer.linked", "customer.registered"]
    assert c.outcomes == [APPLIED, APPLIED, DUPLICATE]


def test_other_roles_still_produce_events_with_their_role():
    result = derive_customer_events(STORE, None, customer(role="shop_manager"), "customer.created")
    assert result.events[0].envelope.data["role"] == "shop_manager"


def test_deleted_is_erased_once_and_forgets_email_keys():
    c = Chain(derive_customer_events)
    c.deliver(customer(30), "customer.created")
    c.deliver({"id": "25"}, "customer.deleted", now=NOW)
    assert c.deliver({"id": 25}, "customer.deleted", now=NOW).outcome == DUPLICATE
    [erased] = c.of_type("customer.erased")
    assert erased.key == "s1:c25" and erased.envelope.time == NOW
    assert erased.envelope.data == {"store_id": "s1", "customer_id": 25, "key": "s1:c25"}
    assert c.snapshot["linked"] == [] and c.snapshot["deleted"] is True
    assert_valid(c.events)


def test_error_body_and_unknown_topic():
    err = {"code": "woocommerce_rest_cannot_view", "message": "no", "data": {"status": 401}}
    assert derive_customer_events(STORE, None, err, "customer.updated").outcome == ERROR_BODY
    assert derive_customer_events(STORE, None, customer(), "customer.restored").outcome == IGNORED
