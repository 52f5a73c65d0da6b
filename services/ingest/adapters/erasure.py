"""What ingest removes of an erased customer (customer.erased, domain/customers.py) from its own
database, run by PgDeliveryBatch.write in the transaction that records the erasure:

- delivery bodies: of the customer's own deliveries and of every delivery of their orders (the
  orders whose snapshot is keyed by one of the customer's keys, guest orders linked to the account
  included) — the body goes, its SHA-256 and the outcome stay, as retention does
  (adapters/retention.py);
- events: the payloads of those orders' events and of the customer's, in the outbox (published or
  not) and in held_events, lose `email`, `first_name`, `last_name` and the billing and shipping
  addresses — pseudonymized: the customer
  key and the facts stay, so consumers' histories still add up;
- snapshots hold no personal data (ids, amounts, statuses, hashes); the customer's forgets the
  email keys (domain/customers.py).
Guest orders never linked to the account (ingest never learnt the email) are not found.
"""
from __future__ import annotations

import asyncpg

from services.ingest.domain.derivation import Erasure

_ORDERS = ("SELECT resource_id FROM snapshots WHERE store_id = $1 AND resource = 'order'"
           " AND state->>'key' = ANY($2::text[])")
_BODIES = ("UPDATE deliveries SET body_sha256 = coalesce(body_sha256, sha256(body)), body = ''::bytea,"
           " body_dropped_at = coalesce(body_dropped_at, now())"
           " WHERE store_id = $1 AND octet_length(body) > 0"
           " AND ((resource = 'customer' AND resource_id = $2) OR (resource = 'order' AND resource_id = ANY($3::text[])))")
# Every place an event of ours carries a person: order events' data.customer and addresses (names,
# street, phone, email of billing and shipping), customer events' data.
_PERSONAL = ("{data,customer,email}", "{data,customer,first_name}", "{data,customer,last_name}",
             "{data,billing_address}", "{data,shipping_address}",
             "{data,email}", "{data,first_name}", "{data,last_name}")
_REDACTED = ("convert_to((convert_from(payload, 'UTF8')::jsonb"
             + "".join(f" #- '{path}'" for path in _PERSONAL) + ")::text, 'UTF8')")


def _payloads(table: str) -> str:
    return (f"UPDATE {table} SET payload = {_REDACTED} WHERE source = $1 AND subject = ANY($2::text[])")


async def erase_customer(conn: asyncpg.Connection, erasure: Erasure) -> dict[str, int]:
    """Remove the customer's personal data (see the module docstring); rows changed per kind."""
    orders = [r[0] for r in await conn.fetch(_ORDERS, erasure.store_id, list(erasure.keys))]
    subjects = [f"order/{o}" for o in orders] + [f"customer/{k}" for k in erasure.keys]
    bodies = await conn.execute(_BODIES, erasure.store_id, str(erasure.customer_id), orders)
    events = 0
    for table in ("outbox", "held_events"):
        events += _count(await conn.execute(_payloads(table), f"/stores/{erasure.store_id}", subjects))
    return {"orders": len(orders), "bodies": _count(bodies), "events": events}


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1]) if status and status[-1].isdigit() else 0
