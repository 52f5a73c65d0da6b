"""A small store's day, delivered as WooCommerce would deliver it.

One webhook per topic (as Aftercart registers them), pinged on creation; every step mutates
the store and then runs the Action Scheduler queue, so deliveries are coalesced the real way
(e.g. tracking + "completed" saved in one request arrive as one order.updated).

The day: 3 products (one virtual), a registered customer and two guests;
* order A (registered): placed -> paid -> shipped (tracking) -> completed;
* order B (guest): placed and paid at checkout, then shipped and completed in one go;
* order C (guest): placed, then cancelled;
* order D (registered): placed, payment failed;
* order E (guest): paid, partial refund of one item, then full refund -> refunded;
* a download-only order F (registered) completes on payment (nothing to ship);
* the customer changes address; a product goes on sale.
"""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from .store import Store
from .webhooks import Delivery, Queue, SenderFactory

DEFAULT_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored",
                  "customer.created", "customer.updated", "customer.deleted",
                  "product.created", "product.updated", "product.deleted")


@dataclass
class DaySummary:
    deliveries: list[Delivery]
    pings: list[int]
    webhooks: dict[str, int]  # topic -> webhook id
    ids: dict[str, int] = field(default_factory=dict)  # "order_a", "customer", ... -> id

    @property
    def by_topic(self) -> dict[str, int]:
        return dict(Counter(d.topic for d in self.deliveries))

    @property
    def status_codes(self) -> dict[int, int]:
        return dict(Counter(d.status_code for d in self.deliveries))

    def as_dict(self) -> dict[str, Any]:
        return {"deliveries": len(self.deliveries), "by_topic": self.by_topic,
                "status_codes": self.status_codes, "pings": self.pings,
                "webhooks": self.webhooks, "ids": self.ids}


def ensure_webhooks(store: Store, topics: Iterable[str], delivery_url: str | None,
                    secret: str | None) -> tuple[dict[str, int], list[int]]:
    """Reuse the store's webhook for each topic, or create one (needs delivery_url)."""
    ids, created = {}, []
    for topic in topics:
        hook = next((h for h in store.webhooks.values() if h.topic == topic), None)
        if hook is None:
            if not delivery_url:
                raise ValueError(f"no webhook for {topic} and no delivery_url to create one")
            hook = store.create_webhook(topic, delivery_url, secret=secret,
                                        name=f"Aftercart {topic}")
            created.append(hook.id)
        ids[topic] = hook.id
    return ids, created


async def play_day(store: Store, sender_factory: SenderFactory, *,
                   delivery_url: str | None = None, secret: str | None = None,
                   topics: Iterable[str] = DEFAULT_TOPICS, ping: bool = True,
                   step_delay: float = 0.0, queue: Queue | None = None) -> DaySummary:
    """Play the day on ``store``; ``sender_factory(webhook)`` builds each webhook's sender.

    ``step_delay`` sleeps between steps (the demo uses it to spread deliveries over time);
    pass your own ``queue`` (already attached or not) to inspect it afterwards.
    """
    webhook_ids, created = ensure_webhooks(store, topics, delivery_url, secret)
    queue = Queue() if queue is None else queue
    if queue.attached_to is None:
        queue.attach(store, sender_factory)
    pings: list[int] = []
    if ping:  # POST /webhooks pings each new webhook (result ignored)
        for hook_id in created:
            sender = queue.senders.setdefault(hook_id, sender_factory(store.webhooks[hook_id]))
            pings.append(await sender.send_ping())

    async def step() -> None:  # one WordPress request ends: the queue runner fires
        await queue.run()
        if step_delay:
            await asyncio.sleep(step_delay)

    first = len(queue.deliveries)
    ids: dict[str, int] = {}
    poster = store.create_product("Woo Ninja Poster", "13.50", sku="POSTER-WOO-NINJA",
                                  categories=["Posters"])
    tee = store.create_product("Premium Quality Tee", "21.99", sku="TEE-PREMIUM",
                               categories=["Clothing", "T-shirts"])
    album = store.create_product("Woo Album #1", "9.00", sku="WOO-ALBUM-1",
                                 categories=["Music"], virtual=True)
    ids.update(product_poster=poster["id"], product_tee=tee["id"], product_album=album["id"])
    await step()

    address = {"address_1": "Rua Augusta 100", "city": "Lisboa", "postcode": "1100-053",
               "country": "PT", "phone": "+351 912 345 678"}
    ana = store.create_customer("ana.silva@example.com", "Ana", "Silva",
                                billing=address, shipping=dict(address))
    ids["customer"] = ana["id"]
    await step()

    # Order A: registered customer, the full happy path, one step per request.
    a = store.create_order([(poster["id"], 2), (tee["id"], 1)], customer_id=ana["id"])
    await step()
    store.pay_order(a["id"])
    await step()
    store.add_shipment_tracking(a["id"], "1Z999AA10123456784", tracking_provider="ups")
    await step()
    store.set_order_status(a["id"], "completed")
    await step()

    # Order B: a guest with non-ASCII details; tracking + completed in one request coalesce.
    guest_b = {"first_name": "Jos\u00e9", "last_name": "\u00c1lvarez", "email": "jose@example.net",
               "address_1": "Calle Mayor 5", "city": "M\u00e1laga", "postcode": "29001",
               "country": "ES", "phone": ""}
    b = store.create_order([(tee["id"], 2)], billing=guest_b)
    store.pay_order(b["id"])
    await step()
    store.add_shipment_tracking(b["id"], "JJD000390007123456", tracking_provider="dhl")
    store.set_order_status(b["id"], "completed")
    await step()

    # Order C: a guest changes their mind.
    c = store.create_order([(poster["id"], 1)], billing={
        "first_name": "Mia", "last_name": "Wong", "email": "mia.wong@example.org",
        "country": "GB", "city": "London", "postcode": "N1 9GU"})
    await step()
    store.set_order_status(c["id"], "cancelled")
    await step()

    # Order D: the card is declined.
    d = store.create_order([(tee["id"], 1)], customer_id=ana["id"])
    await step()
    store.set_order_status(d["id"], "failed")
    await step()

    # Order E: paid, one poster refunded, then the rest.
    e = store.create_order([(poster["id"], 3)], billing={**guest_b, "email": "jose.alt@example.net"})
    store.pay_order(e["id"])
    await step()
    store.refund_order(e["id"], line_items=[(e["line_items"][0]["id"], 1)], reason="Damaged in transit")
    await step()
    store.refund_order(e["id"], reason="Order fully refunded")
    await step()

    # Order F: download only, so payment completes it.
    f = store.create_order([(album["id"], 1)], customer_id=ana["id"], shipping_total="0")
    await step()
    store.pay_order(f["id"])
    await step()

    store.update_customer(ana["id"], billing={"address_1": "Avenida da Liberdade 200",
                                              "postcode": "1250-147"})
    await step()
    store.update_product(tee["id"], sale_price="17.99")
    await step()

    ids.update(order_a=a["id"], order_b=b["id"], order_c=c["id"], order_d=d["id"],
               order_e=e["id"], order_f=f["id"])
    return DaySummary(deliveries=queue.deliveries[first:], pings=pings,
                      webhooks=webhook_ids, ids=ids)


__all__ = ["DEFAULT_TOPICS", "DaySummary", "play_day", "ensure_webhooks"]
