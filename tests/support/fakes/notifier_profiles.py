"""In-memory twins of the notifier's profile and catalogue repositories (adapters/profiles.py,
adapters/catalogue.py): same methods, same rules (older events never overwrite newer ones, a
deleted product stays, marked)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from services.notifier.domain.catalogue import CatalogueProduct
    from shared.events.profiles import ProfileUpdated


class MemoryProfiles:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[datetime, ProfileUpdated]] = {}

    async def put(self, profile: ProfileUpdated, at: datetime) -> bool:
        known = self.rows.get(profile.customer_key)
        if known is not None and known[0] > at:
            return False
        self.rows[profile.customer_key] = (at, profile)
        return True

    async def get(self, customer_key: str) -> ProfileUpdated | None:
        row = self.rows.get(customer_key)
        return row[1] if row else None

    async def delete(self, customer_key: str) -> bool:
        return self.rows.pop(customer_key, None) is not None


class MemoryCatalogue:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], tuple[datetime, CatalogueProduct]] = {}

    async def upsert(self, p: CatalogueProduct, at: datetime) -> bool:
        known = self.rows.get((p.store_id, p.product_id))
        if known is not None and known[0] > at:
            return False
        self.rows[(p.store_id, p.product_id)] = (at, p)
        return True

    async def delete(self, store_id: str, product_id: int, at: datetime) -> None:
        from services.notifier.domain.catalogue import CatalogueProduct

        known = self.rows.get((store_id, product_id))
        if known is not None and known[0] > at:
            return
        base = known[1] if known else CatalogueProduct(store_id, product_id, "", "trash")
        self.rows[(store_id, product_id)] = (at, replace(base, deleted=True))

    async def get_many(self, store_id: str, product_ids: Iterable[int]) -> dict[int, CatalogueProduct]:
        return {pid: self.rows[(store_id, pid)][1] for pid in product_ids if (store_id, pid) in self.rows}

    async def in_categories(self, store_id: str, categories: list[str], limit: int) -> list[CatalogueProduct]:
        hits = sorted((p for (s, _), (_, p) in self.rows.items() if s == store_id and not p.deleted
                       and p.status == "publish" and set(p.categories) & set(categories)),
                      key=lambda p: p.product_id)
        return hits[:limit]


class MemoryMessageProducts:
    def __init__(self, messages: Any) -> None:
        self.messages = messages  # MemoryMessages: the status lives there
        self.rows: dict[str, dict[str, Any]] = {}

    async def attach(self, message_id: str, *, store_id: str, customer_key: str, flow: str,
                     product_ids: list[int]) -> None:
        self.rows.setdefault(message_id, {"store_id": store_id, "customer_key": customer_key, "flow": flow,
                                          "product_ids": list(product_ids)})

    async def of(self, message_id: str) -> list[int] | None:
        row = self.rows.get(message_id)
        return None if row is None else list(row["product_ids"])

    async def pending_naming(self, customer_key: str, flow: str, product_ids: list[int]) -> list[str]:
        wanted = set(product_ids)
        return [mid for mid, r in self.rows.items()
                if r["customer_key"] == customer_key and r["flow"] == flow and wanted & set(r["product_ids"])
                and (m := self.messages.rows.get(mid)) is not None and m.status == "pending"]

    async def pending_of(self, customer_key: str, flow: str) -> list[str]:
        return [mid for mid, r in self.rows.items() if r["customer_key"] == customer_key and r["flow"] == flow
                and (m := self.messages.rows.get(mid)) is not None and m.status == "pending"]
