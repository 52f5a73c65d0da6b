"""customer.erased carries what ingest must erase with it (issue 15 point 5): the keys the
customer's events were keyed by — the account's and the guest email keys linked to it, which the
snapshot forgets — and the pipeline hands it to the batch write of that very delivery (its
PostgreSQL side, and the scan of the whole database: tests/integration/ingest/test_personal_data.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from services.ingest.domain import derive_customer_events
from services.ingest.domain.derivation import Erasure
from services.ingest.metrics import ingest_metrics
from services.ingest.pipeline import ingest_batch
from shared.ids import customer_key, normalize_email
from tests.support.fakes.ingest import MemoryDeliveryBatch
from tests.support.ingest_payloads import Chain, payload
from tests.unit.ingest.deliveries import delivery

NOW = datetime(2026, 3, 3, tzinfo=timezone.utc)


def _customer() -> dict:
    body = payload("customer.v3.docs.json")
    body["billing"]["email"] = "billing@example.com"  # a second email: a second guest key
    return body


def test_the_erasure_names_the_account_key_and_every_guest_key_linked_to_it():
    c = Chain(derive_customer_events)
    c.deliver(_customer(), "customer.created")
    result = c.deliver({"id": 25}, "customer.deleted", now=NOW)
    guest_keys = [customer_key("s1", 0, normalize_email(e)) for e in ("john.doe@example.com", "billing@example.com")]
    assert result.erase == Erasure(store_id="s1", customer_id=25, keys=("s1:c25", *guest_keys))
    assert c.snapshot["linked"] == []
    assert c.deliver({"id": 25}, "customer.deleted", now=NOW).erase is None  # erased once


def test_an_erasure_of_a_customer_ingest_never_saw_still_names_the_account():
    result = derive_customer_events(Chain(derive_customer_events).store, None, {"id": 7}, "customer.deleted", now=NOW)
    assert result.erase == Erasure(store_id="s1", customer_id=7, keys=("s1:c7",))


async def test_the_pipeline_hands_the_erasure_to_the_write_of_its_delivery():
    batch = MemoryDeliveryBatch()
    await ingest_batch(batch, [delivery(_customer(), "customer.created"), delivery({"id": 25}, "customer.deleted")],
                       ingest_metrics())
    assert [r.erase for r in batch.rows][0] is None
    assert batch.rows[1].erase.keys[0] == "s1:c25"
