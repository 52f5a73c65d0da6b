"""The catalogue as the notifier sees it (pure): the products it may recommend or remind of, and
the rule for what a cross-sell / upsell message shows.

A product is shown only while it can be bought: published, in stock (or on backorder), not deleted,
with a name and a price. Candidates come in the merchant's order of preference — the bought
products' cross_sell_ids, then upsell_ids, then WooCommerce's related_ids, then the best sellers of
the categories the customer buys most (profile category_affinity) — never a product just bought or
already owned, each once, at most `k`.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.events.catalog import ProductUpserted

BUYABLE_STOCK = frozenset({"instock", "onbackorder"})


@dataclass(frozen=True)
class CatalogueProduct:
    store_id: str
    product_id: int
    name: str
    status: str
    price: str | None = None
    currency: str | None = None
    permalink: str | None = None
    image: str | None = None
    stock_status: str | None = None
    cross_sell_ids: tuple[int, ...] = ()
    upsell_ids: tuple[int, ...] = ()
    related_ids: tuple[int, ...] = ()
    categories: tuple[str, ...] = ()
    usage_period_days: int | None = None
    deleted: bool = False

    @property
    def buyable(self) -> bool:
        # A missing stock status (stock not managed) counts as in stock, as WooCommerce shows it.
        return (not self.deleted and self.status == "publish" and self.price is not None
                and (self.stock_status is None or self.stock_status in BUYABLE_STOCK))

    @classmethod
    def of(cls, p: ProductUpserted) -> CatalogueProduct:
        return cls(store_id=p.store_id, product_id=p.product_id, name=p.name, status=p.status, price=p.price,
                   currency=p.currency, permalink=p.permalink, image=p.image, stock_status=p.stock_status,
                   cross_sell_ids=tuple(p.cross_sell_ids), upsell_ids=tuple(p.upsell_ids),
                   related_ids=tuple(p.related_ids),
                   categories=tuple(sorted(t.name for t in p.categories)),  # names, as the profiles count them
                   usage_period_days=p.usage_period_days)


@dataclass(frozen=True)
class Candidates:
    """The ids a recommendation may name, best first, and why each came (for the logs/tests)."""
    ids: tuple[int, ...] = ()
    sources: Mapping[int, str] = field(default_factory=dict)


def linked_candidates(bought: Sequence[CatalogueProduct]) -> Candidates:
    """The bought products' own links, merchant's first: cross-sells, upsells, related."""
    ids: list[int] = []
    sources: dict[int, str] = {}
    for source in ("cross_sell_ids", "upsell_ids", "related_ids"):
        for product in bought:
            for pid in getattr(product, source):
                if pid not in sources:
                    ids.append(pid)
                    sources[pid] = source.removesuffix("_ids")
    return Candidates(tuple(ids), sources)


def top_categories(affinity: Mapping[str, float], limit: int = 3) -> list[str]:
    return [c for c, _ in sorted(affinity.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]


def choose(candidate_ids: Iterable[int], products: Mapping[int, CatalogueProduct], *, exclude: Iterable[int],
           k: int) -> list[CatalogueProduct]:
    """At most `k` buyable products of `candidate_ids`, in their order, none of `exclude`."""
    excluded, out, seen = set(exclude), [], set()
    for pid in candidate_ids:
        product = products.get(pid)
        if pid in excluded or pid in seen or product is None or not product.buyable:
            continue
        seen.add(pid)
        out.append(product)
        if len(out) == k:
            break
    return out
