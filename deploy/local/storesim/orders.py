"""Order operations of the simulated store (a mixin of :class:`deploy.local.storesim.store.Store`).

They mutate orders the way WooCommerce does and emit the topics its hooks would fire:
``woocommerce_new_order`` -> order.created; any later save, refund or refund deletion ->
order.updated; trash -> order.deleted (payload ``{"id"}``); untrash -> order.restored.
A permanent delete fires nothing (reconciliation sees a 404).
"""
from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import shapes
from .errors import WCError

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded",
                  "failed", "checkout-draft", "trash")
PAID_STATUSES = ("processing", "completed")  # wc_get_is_paid_statuses()
EDITABLE_STATUSES = ("pending", "on-hold", "auto-draft", "checkout-draft")
UNPAID_STATUSES = ("pending", "failed")  # needs_payment() when total > 0

_UA = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/124.0.0.0 Safari/537.36")


def _err(code: str, message: str, status: int):
    return WCError(code, message, status)


class OrderOps:
    """Order lifecycle: create, pay, status changes, tracking, refunds, trash."""

    def _order(self: Store, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise _err("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        return order

    def create_order(self: Store, items: list[tuple[int, int]], *, customer_id: int = 0,
                     billing: dict | None = None, shipping: dict | None = None,
                     payment_method: str = "stripe",
                     payment_method_title: str = "Credit Card (Stripe)",
                     shipping_total: str = "5.00", shipping_method_title: str = "Flat rate",
                     created_via: str = "checkout", customer_note: str = "",
                     customer_ip_address: str = "203.0.113.7",
                     customer_user_agent: str = _UA, status: str = "pending",
                     meta_data: list[dict] | None = None) -> dict:
        """Place an order for ``[(product_id, quantity), ...]``; guest when customer_id is 0."""
        if customer_id:
            customer = self.customers.get(customer_id)
            if customer is None:
                raise _err("woocommerce_rest_invalid_customer_id", "Customer ID is invalid.", 400)
            bill = {**customer["billing"], **(billing or {})}
            ship = {**customer["shipping"], **(shipping or {})}
        else:
            if not billing or not billing.get("email"):
                raise ValueError("a guest order needs billing with an email")
            bill = {**shapes.address(), **billing}
            ship = {**shapes.address(billing=False),
                    **{k: v for k, v in bill.items() if k != "email"}, **(shipping or {})}
        local, gmt = self.stamp()
        order_id = self.seq.post.take()
        lines = []
        for product_id, quantity in items:
            product = self.products.get(product_id)
            if product is None:
                raise _err("woocommerce_rest_invalid_product_id", "Product ID is invalid.", 400)
            lines.append(shapes.line_item(self.seq.item.take(), product, quantity))
        shipping_lines = []
        if Decimal(shipping_total) > 0:
            shipping_lines.append(shapes.shipping_line(self.seq.item.take(), shipping_total,
                                                       shipping_method_title))
        total = sum((Decimal(li["total"]) for li in lines), Decimal(0)) + Decimal(shipping_total)
        order = {
            "id": order_id, "parent_id": 0, "number": str(order_id),
            "order_key": "wc_order_" + self.random_token(13), "created_via": created_via,
            "version": self.wc_version, "status": status, "currency": self.currency,
            "date_created": local, "date_created_gmt": gmt,
            "date_modified": local, "date_modified_gmt": gmt,
            "discount_total": "0.00", "discount_tax": "0.00",
            "shipping_total": shapes.money(shipping_total), "shipping_tax": "0.00",
            "cart_tax": "0.00", "total": shapes.money(total), "total_tax": "0.00",
            "prices_include_tax": False, "customer_id": customer_id,
            "customer_ip_address": customer_ip_address, "customer_user_agent": customer_user_agent,
            "customer_note": customer_note, "billing": bill, "shipping": ship,
            "payment_method": payment_method, "payment_method_title": payment_method_title,
            "transaction_id": "", "date_paid": None, "date_paid_gmt": None,
            "date_completed": None, "date_completed_gmt": None,
            "cart_hash": self.random_hex() if created_via == "checkout" else "",
            "meta_data": [{"id": self.seq.meta.take(), **m} for m in meta_data or []],
            "line_items": lines, "tax_lines": [], "shipping_lines": shipping_lines,
            "fee_lines": [], "coupon_lines": [], "refunds": [],
            "payment_url": "", "is_editable": False, "needs_payment": False,
            "needs_processing": False, "currency_symbol": self.currency_symbol,
        }
        self._refresh_flags(order)
        self.orders[order_id] = order
        self.emit("order.created", order_id)
        if status in PAID_STATUSES:
            self._after_paid(order)
        return order

    def _refresh_flags(self: Store, order: dict) -> None:
        """Derived fields of newer WC; skipped for loaded fixtures that predate them."""
        if "is_editable" not in order:
            return
        order["is_editable"] = order["status"] in EDITABLE_STATUSES
        order["needs_payment"] = order["status"] in UNPAID_STATUSES and Decimal(order["total"]) > 0
        order["needs_processing"] = any(
            self.products.get(li["product_id"], {}).get("virtual") is False
            for li in order["line_items"])
        order["payment_url"] = (f"{self.home_url}checkout/order-pay/{order['id']}/"
                                f"?pay_for_order=true&key={order['order_key']}")

    def _after_paid(self: Store, order: dict) -> None:
        if order.get("customer_id"):
            self.set_paying_customer(order["customer_id"])

    def set_order_status(self: Store, order_id: int, status: str) -> dict:
        """WC_Order::set_status() + save(): paid/completed dates follow the transition."""
        order = self._order(order_id)
        if status not in ORDER_STATUSES or status == "trash":
            raise _err("rest_invalid_param", f"Invalid order status {status!r}.", 400)
        moment = self.modified_moment(order)
        local, gmt = self.stamp(moment)
        old = order["status"]
        order["status"] = status
        if status in PAID_STATUSES and not order["date_paid"]:
            order["date_paid"], order["date_paid_gmt"] = local, gmt  # maybe_set_date_paid()
        if status == "completed":
            order["date_completed"], order["date_completed_gmt"] = local, gmt
        self._refresh_flags(order)
        self.touch(order, moment)
        self.emit("order.updated", order_id)
        if status in PAID_STATUSES and old not in PAID_STATUSES:
            self._after_paid(order)
        return order

    def pay_order(self: Store, order_id: int, transaction_id: str | None = None) -> dict:
        """WC_Order::payment_complete(): processing (or completed if nothing to ship)."""
        order = self._order(order_id)
        order["transaction_id"] = transaction_id or f"ch_{self.random_token(24)}"
        needs_processing = order.get("needs_processing", True)
        return self.set_order_status(order_id, "processing" if needs_processing else "completed")

    def add_shipment_tracking(self: Store, order_id: int, tracking_number: str, *,
                              tracking_provider: str = "fedex",
                              date_shipped: date | None = None) -> dict:
        """WooCommerce Shipment Tracking: appends to meta _wc_shipment_tracking_items and saves."""
        order = self._order(order_id)
        moment = self.modified_moment(order)
        shipped = date_shipped or moment.date()
        item = {
            "tracking_provider": tracking_provider, "custom_tracking_provider": None,
            "custom_tracking_link": None, "tracking_number": tracking_number,
            # The plugin stores the shipping day as a unix timestamp string (midnight UTC).
            "date_shipped": str(int(datetime(shipped.year, shipped.month, shipped.day,
                                             tzinfo=UTC).timestamp())),
            "tracking_id": hashlib.md5(f"{tracking_number}{moment.timestamp()}".encode()).hexdigest(),
        }
        for meta in order["meta_data"]:
            if meta["key"] == "_wc_shipment_tracking_items":
                meta["value"].append(item)
                break
        else:
            order["meta_data"].append({"id": self.seq.meta.take(),
                                       "key": "_wc_shipment_tracking_items", "value": [item]})
        self.touch(order, moment)
        self.emit("order.updated", order_id)
        return order

    def refunded_total(self: Store, order_id: int) -> Decimal:
        return -sum((Decimal(r["total"]) for r in self._order(order_id)["refunds"]), Decimal(0))

    def refund_order(self: Store, order_id: int, amount: Any = None, *, reason: str = "",
                     line_items: list[tuple[int, int]] | None = None,
                     refunded_payment: bool = True, refunded_by: int = 1) -> dict:
        """wc_create_refund(): partial refunds keep status and total; refunding the remaining
        amount moves the order to ``refunded``. Returns the refund resource (without _links)."""
        order = self._order(order_id)
        remaining = Decimal(order["total"]) - self.refunded_total(order_id)
        refund_lines = []
        for item_id, qty in line_items or []:
            src = next(li for li in order["line_items"] if li["id"] == item_id)
            value = -Decimal(src["total"]) / src["quantity"] * qty
            refund_lines.append({
                "id": self.seq.item.take(), "name": src["name"], "product_id": src["product_id"],
                "variation_id": src["variation_id"], "quantity": -qty,
                "tax_class": src["tax_class"], "subtotal": shapes.money(value), "subtotal_tax": "0.00",
                "total": shapes.money(value), "total_tax": "0.00", "taxes": [],
                "meta_data": [{"id": self.seq.meta.take(), "key": "_refunded_item_id",
                               "value": str(item_id)}],
                "sku": src["sku"], "price": float(value) / -qty,
                "image": dict(src.get("image") or {"id": "", "src": ""}), "parent_name": None,
            })
        if amount is None:
            amount = -sum((Decimal(li["total"]) for li in refund_lines), Decimal(0)) or remaining
        amount = Decimal(shapes.money(amount))
        if amount <= 0 or amount > remaining:
            raise _err("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)
        moment = self.modified_moment(order)
        local, gmt = self.stamp(moment)
        refund = {
            "id": self.seq.post.take(), "date_created": local, "date_created_gmt": gmt,
            "amount": shapes.money(amount), "reason": reason, "refunded_by": refunded_by,
            "refunded_payment": refunded_payment, "meta_data": [], "line_items": refund_lines,
            "shipping_lines": [],
        }
        self.refunds[refund["id"]] = refund
        self.refund_parent[refund["id"]] = order_id
        # Newest refund first, total as a negative string (see order-partially-refunded fixture).
        order["refunds"].insert(0, {"id": refund["id"], "reason": reason,
                                    "total": shapes.money(-amount)})
        if amount == remaining:  # wc_order_fully_refunded()
            order["status"] = "refunded"
            self._refresh_flags(order)
        self.touch(order, moment)
        self.emit("order.updated", order_id)  # woocommerce_order_refunded
        return refund

    def trash_order(self: Store, order_id: int) -> dict:
        order = self._order(order_id)
        self._trashed_from[order_id] = order["status"]
        order["status"] = "trash"
        self.touch(order)
        self.emit("order.deleted", order_id)
        return order

    def untrash_order(self: Store, order_id: int) -> dict:
        order = self._order(order_id)
        # WC restores the pre-trash status (WP itself would restore to draft).
        order["status"] = self._trashed_from.pop(order_id, "pending")
        self._refresh_flags(order)
        self.touch(order)
        self.emit("order.restored", order_id)
        return order

    def delete_order(self: Store, order_id: int) -> None:
        """Permanent delete (DELETE ?force=true, empty trash): no webhook at all."""
        self._order(order_id)
        del self.orders[order_id]
        for rid in [r for r, parent in self.refund_parent.items() if parent == order_id]:
            self.refunds.pop(rid, None)
            self.refund_parent.pop(rid, None)
