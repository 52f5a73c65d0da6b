"""FakeWooRest: WooRestClient's interface over in-memory resources, answering like WooCommerce's
REST API (newest-modified first, `modified_after` exclusive, status filters, 404 as WooRestError)
and recording every request it was asked.

    rest = FakeWooRest(orders=[order], webhooks=[{"id": 1, "status": "disabled", ...}])
"""
from __future__ import annotations

from collections.abc import AsyncIterator

PER_PAGE = 100


class FakeWooRestError(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class FakeWooRest:
    def __init__(self, *, orders: list[dict] | None = None, products: list[dict] | None = None,
                 customers: list[dict] | None = None, refunds: dict[tuple[int, int], dict] | None = None,
                 webhooks: list[dict] | None = None, error: type[Exception] = FakeWooRestError) -> None:
        self.resources = {"orders": list(orders or []), "products": list(products or []),
                          "customers": list(customers or [])}
        self.refunds = dict(refunds or {})
        self.hooks = list(webhooks or [])
        self.error = error  # pass ingest's WooRestError so callers catch what they catch in production
        self.requests: list[tuple[str, dict]] = []
        self.closed = False

    async def close(self) -> None:
        self.closed = True

    async def _pages(self, path: str, params: dict, items: list[dict]) -> AsyncIterator[list[dict]]:
        self.requests.append((path, dict(params)))
        for start in range(0, len(items), PER_PAGE):
            yield items[start:start + PER_PAGE]

    def modified_since(self, resource: str, modified_after: str | None, status: str | None = None
                       ) -> AsyncIterator[list[dict]]:
        items = self.resources[resource]
        if status is not None:
            items = [i for i in items if i.get("status") == status]
        else:  # WooCommerce's default listing ("any") leaves trashed resources out
            items = [i for i in items if i.get("status") != "trash"]
        if modified_after is not None:
            items = [i for i in items if (i.get("date_modified_gmt") or "") > modified_after]
        items = sorted(items, key=lambda i: i.get("date_modified_gmt") or "", reverse=True)
        params = {"orderby": "modified", "order": "desc", "modified_after": modified_after, "status": status}
        return self._pages(f"/{resource}", {k: v for k, v in params.items() if v is not None}, items)

    def customers(self) -> AsyncIterator[list[dict]]:
        items = sorted(self.resources["customers"], key=lambda c: c.get("id", 0))
        return self._pages("/customers", {"orderby": "id", "order": "asc", "role": "all"}, items)

    async def refund(self, order_id: int, refund_id: int) -> dict:
        self.requests.append((f"/orders/{order_id}/refunds/{refund_id}", {}))
        try:
            return self.refunds[(order_id, refund_id)]
        except KeyError:
            raise self.error(f"GET /orders/{order_id}/refunds/{refund_id} → 404 woocommerce_rest_invalid_id",
                             404) from None

    async def listed_orders(self, ids: list[int], status: str | None = None) -> set[int]:
        self.requests.append(("/orders", {"include": ",".join(map(str, ids)), "_fields": "id",
                                          **({"status": status} if status else {})}))
        return {o["id"] for o in self.resources["orders"] if o["id"] in ids
                and ((o.get("status") == status) if status else o.get("status") != "trash")}

    async def order_exists(self, order_id: int) -> bool:
        self.requests.append((f"/orders/{order_id}", {"_fields": "id"}))
        return any(o["id"] == order_id for o in self.resources["orders"])

    async def webhooks(self) -> list[dict]:
        self.requests.append(("/webhooks", {"status": "all"}))
        return list(self.hooks)
