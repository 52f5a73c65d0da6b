"""The worker's state behind the unit of work's small interfaces: faust tables in production
(changelog-backed, restored on restart), plain dicts in tests (tests/support/fakes/profiles.py).

    profiles   customer key → profile state (domain/profile.py), a faust Table co-partitioned
               with orders.v1 / customers.v1 (both keyed by customer key)
    catalogue  "<store>:p<id>" → {"categories", "usage_period_days"}: every worker's whole copy
               of catalog.v1 (adapters/catalogue_reader.py)
"""
from __future__ import annotations

from typing import Any, MutableMapping

from services.profiles.domain.profile import ProductFacts


class TableProfiles:
    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table

    def get(self, key: str) -> dict[str, Any] | None:
        return self.table.get(key)

    def put(self, key: str, state: dict[str, Any]) -> None:
        self.table[key] = state


class TableCatalogue:
    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table

    def put(self, store_id: str, product_id: int, facts: ProductFacts) -> None:
        self.table[f"{store_id}:p{product_id}"] = {"categories": list(facts.categories),
                                                   "usage_period_days": facts.usage_period_days}

    def facts(self, store_id: str, product_id: int) -> ProductFacts | None:
        row = self.table.get(f"{store_id}:p{product_id}")
        if row is None:
            return None
        return ProductFacts(categories=tuple(row.get("categories") or ()), usage_period_days=row.get("usage_period_days"))
