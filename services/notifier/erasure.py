"""Erasure, the use case behind customer.erased (customers.v1): the customer's personal data goes
from the notifier's database, their address hashes go on the suppression list as "erased" first —
so a later event about the same address is neither sent nor stored again (recording asks
`preferences.erased_address`) — and the aggregate counts stay (adapters/erasure.py says what is
blanked and what is kept). Repeating it changes nothing more.

    blanked = await erase_customer(tx, store_id="s1", key="s1:c25")
"""
from __future__ import annotations

from typing import Any

from services.notifier.domain.consent import ERASED, address_hash
from services.notifier.metrics import notifier_metrics


async def erase_customer(tx: Any, *, store_id: str, key: str) -> int:
    keys = await tx.erasure.keys_of(key)
    addresses = await tx.erasure.addresses(keys)
    for address in addresses:
        if await tx.suppressions.add(store_id, address_hash(address), ERASED):
            notifier_metrics().suppressions_added.labels(ERASED).inc()
    return await tx.erasure.erase(key, keys, addresses)
