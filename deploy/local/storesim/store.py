"""In-memory WooCommerce store state: the single source of truth for the simulator.

Objects are kept as REST v3 dicts (without ``_links``), so what the REST API serves and what a
webhook delivers are the same snapshot, as in WooCommerce where a webhook payload is an
internal GET of ``/wc/v3/<resource>s/<id>``. Every mutation bumps ``date_modified(_gmt)``
and emits the webhook topic(s) WooCommerce would fire; listeners (the delivery queue) get
``(topic, arg)`` where ``arg`` is the first hook argument (the object id).

Order operations live in :mod:`deploy.local.storesim.orders` (mixed in here).
"""
from __future__ import annotations

import copy
import random
import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Callable, Iterable

from . import shapes
from .clock import Clock, parse_wc_date, system_clock, wc_date
from .errors import WCError
from .orders import OrderOps

Listener = Callable[[str, Any], None]


@dataclass
class Webhook:
    """A webhook configuration (wp_wc_webhooks row) plus its delivery bookkeeping."""

    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str = ""
    status: str = "active"  # active | paused | disabled
    failure_count: int = 0
    pending_delivery: bool = True  # new webhooks wait for a ping answered with 200
    user_id: int = 1
    date_created: str = ""
    date_created_gmt: str = ""
    date_modified: str = ""
    date_modified_gmt: str = ""
    hooks: list[str] | None = None  # None: derived from the topic

    def as_rest(self) -> dict[str, Any]:
        """The v3 webhook resource; the secret is never returned (prepare_item_for_response)."""
        resource, _, event = self.topic.partition(".")
        return {"id": self.id, "name": self.name, "status": self.status, "topic": self.topic,
                "resource": resource, "event": event,
                "hooks": list(self.hooks if self.hooks is not None
                              else shapes.TOPIC_HOOKS.get(self.topic, [f"{event}"])),
                "delivery_url": self.delivery_url, "date_created": self.date_created,
                "date_created_gmt": self.date_created_gmt, "date_modified": self.date_modified,
                "date_modified_gmt": self.date_modified_gmt}


@dataclass
class ApiKey:
    consumer_secret: str
    permissions: str = "read_write"  # read | write | read_write
    nonces: dict[int, str] = field(default_factory=dict)  # OAuth 1.0a nonces by timestamp (oauth1.py)


@dataclass
class _Seq:
    next: int

    def take(self) -> int:
        value, self.next = self.next, self.next + 1
        return value

    def seen(self, value: int) -> None:
        self.next = max(self.next, int(value) + 1)


@dataclass
class _Seqs:
    post: _Seq = field(default_factory=lambda: _Seq(100))  # orders, refunds, products, coupons
    user: _Seq = field(default_factory=lambda: _Seq(2))  # user 1 is the shop admin
    comment: _Seq = field(default_factory=lambda: _Seq(1))
    item: _Seq = field(default_factory=lambda: _Seq(1))  # order items (lines, shipping, ...)
    meta: _Seq = field(default_factory=lambda: _Seq(1000))
    webhook: _Seq = field(default_factory=lambda: _Seq(1))


class Store(OrderOps):
    """A WooCommerce store held in memory. See the module docstring."""

    def __init__(self, home_url: str = "https://demo-store.example/", *,
                 clock: Clock | None = None, utc_offset: timedelta = timedelta(hours=2),
                 currency: str = "USD", wc_version: str = "9.8.1", seed: int = 0,
                 auth_salt: str = "storesim-auth-salt", id_base: int = 0):
        self.home_url = home_url if home_url.endswith("/") else home_url + "/"
        self.clock = clock or system_clock
        self.utc_offset = utc_offset
        self.currency = currency
        self.wc_version = wc_version
        self.auth_salt = auth_salt  # wp_salt('auth'): keys wp_hash() for the Delivery-ID
        self.rng = random.Random(seed)
        self.seq = _Seqs()
        if id_base:  # a later "day" of the same store: ids past the earlier days' (the demo's new day)
            for seq in (self.seq.post, self.seq.user, self.seq.comment, self.seq.item, self.seq.meta):
                seq.next += id_base
        self.orders: dict[int, dict] = {}
        self.refunds: dict[int, dict] = {}
        self.refund_parent: dict[int, int] = {}
        self.customers: dict[int, dict] = {}
        self.products: dict[int, dict] = {}
        self.coupons: dict[int, dict] = {}
        self.reviews: dict[int, dict] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.api_keys: dict[str, ApiKey] = {}
        self._trashed_from: dict[int, str] = {}
        self._listeners: list[Listener] = []

    # ----------------------------------------------------------------- plumbing
    def now(self) -> datetime:
        """Current time from the injected clock, at WordPress' 1-second resolution."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def stamp(self, moment: datetime | None = None) -> tuple[str, str]:
        """(site-local, gmt) WC date strings for ``moment`` (default: now())."""
        moment = moment or self.now()
        return wc_date(moment, self.utc_offset), wc_date(moment)

    def modified_moment(self, obj: dict) -> datetime:
        """now(), but strictly after ``obj``'s current date_modified_gmt: two saves of one
        object within a second would share a timestamp in WooCommerce, which makes
        "newest snapshot wins" ambiguous, so the simulator moves the second one 1 s on."""
        moment = self.now()
        previous = obj.get("date_modified_gmt")
        if previous:
            floor = parse_wc_date(previous).replace(tzinfo=UTC) + timedelta(seconds=1)
            moment = max(moment, floor)
        return moment

    def touch(self, obj: dict, moment: datetime | None = None) -> None:
        obj["date_modified"], obj["date_modified_gmt"] = self.stamp(moment or self.modified_moment(obj))

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def emit(self, topic: str, arg: Any) -> None:
        for listener in list(self._listeners):
            listener(topic, arg)

    def random_token(self, length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(length))

    def random_hex(self, length: int = 32) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(length))

    @property
    def currency_symbol(self) -> str:
        return shapes.CURRENCY_SYMBOLS.get(self.currency, self.currency)

    def add_api_key(self, consumer_key: str, consumer_secret: str,
                    permissions: str = "read_write") -> None:
        self.api_keys[consumer_key] = ApiKey(consumer_secret, permissions)

    # ------------------------------------------------------------ REST views
    def _view(self, kind: str, obj: dict | None, parent_id: int | None = None) -> dict | None:
        if obj is None:
            return None
        out = copy.deepcopy(obj)
        out["_links"] = shapes.links(self.home_url, kind, obj, parent_id)
        return out

    def order_view(self, order_id: int) -> dict | None:
        return self._view("order", self.orders.get(order_id))

    def refund_view(self, refund_id: int) -> dict | None:
        return self._view("refund", self.refunds.get(refund_id), self.refund_parent.get(refund_id))

    def customer_view(self, customer_id: int) -> dict | None:
        return self._view("customer", self.customers.get(customer_id))

    def product_view(self, product_id: int) -> dict | None:
        return self._view("product", self.products.get(product_id))

    def coupon_view(self, coupon_id: int) -> dict | None:
        return self._view("coupon", self.coupons.get(coupon_id))

    def review_view(self, review_id: int, context: str = "view") -> dict | None:
        view = self._view("review", self.reviews.get(review_id))
        if view is not None and context == "view":
            # The view context renders the comment through wpautop(); edit returns it raw.
            view["review"] = shapes.wpautop(view["review"])
        return view

    def webhook_view(self, webhook_id: int) -> dict | None:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            return None
        out = hook.as_rest()
        out["_links"] = shapes.links(self.home_url, "webhook", out)
        return out

    def delivery_payload(self, topic: str, arg: Any) -> Any:
        """WC_Webhook::build_payload() for wp_api_v3, evaluated at delivery time."""
        resource, _, event = topic.partition(".")
        if resource == "action":
            return {"action": event, "arg": arg}
        if event == "deleted":
            return {"id": arg}
        view = {"order": self.order_view, "customer": self.customer_view,
                "product": self.product_view, "coupon": self.coupon_view}[resource](int(arg))
        if view is not None:
            return view
        if resource == "customer":
            return WCError("woocommerce_rest_invalid_id", "Invalid resource ID.", 404).body()
        post_type = {"order": "shop_order", "product": "product", "coupon": "shop_coupon"}[resource]
        return WCError(f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.", 404).body()

    # ---------------------------------------------- loading real payloads verbatim
    @staticmethod
    def _strip(obj: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in obj.items() if k != "_links"}

    def load_order(self, payload: dict) -> dict:
        order = self.orders[payload["id"]] = self._strip(payload)
        self.seq.post.seen(order["id"])
        for kind in ("line_items", "shipping_lines", "tax_lines", "fee_lines", "coupon_lines"):
            for item in order.get(kind, []):
                self.seq.item.seen(item["id"])
        for meta in order.get("meta_data", []):
            self.seq.meta.seen(meta["id"])
        return order

    def load_refund(self, order_id: int, payload: dict) -> dict:
        refund = self.refunds[payload["id"]] = self._strip(payload)
        self.refund_parent[refund["id"]] = order_id
        self.seq.post.seen(refund["id"])
        return refund

    def load_customer(self, payload: dict) -> dict:
        self.seq.user.seen(payload["id"])
        self.customers[payload["id"]] = self._strip(payload)
        return self.customers[payload["id"]]

    def load_product(self, payload: dict) -> dict:
        self.seq.post.seen(payload["id"])
        self.products[payload["id"]] = self._strip(payload)
        return self.products[payload["id"]]

    def load_coupon(self, payload: dict) -> dict:
        self.seq.post.seen(payload["id"])
        self.coupons[payload["id"]] = self._strip(payload)
        return self.coupons[payload["id"]]

    def load_review(self, payload: dict) -> dict:
        self.seq.comment.seen(payload["id"])
        self.reviews[payload["id"]] = self._strip(payload)
        return self.reviews[payload["id"]]

    def load_webhook(self, payload: dict, secret: str = "") -> Webhook:
        hook = Webhook(id=payload["id"], name=payload["name"], topic=payload["topic"],
                       delivery_url=payload["delivery_url"], secret=secret,
                       status=payload["status"], pending_delivery=False,
                       date_created=payload["date_created"],
                       date_created_gmt=payload["date_created_gmt"],
                       date_modified=payload["date_modified"],
                       date_modified_gmt=payload["date_modified_gmt"],
                       hooks=list(payload["hooks"]))
        self.seq.webhook.seen(hook.id)
        self.webhooks[hook.id] = hook
        return hook

    # --------------------------------------------------------------- customers
    def create_customer(self, email: str, first_name: str = "", last_name: str = "", *,
                        username: str | None = None, billing: dict | None = None,
                        shipping: dict | None = None, role: str = "customer") -> dict:
        email = email.strip()
        if any(c["email"].lower() == email.lower() for c in self.customers.values()):
            raise WCError("registration-error-email-exists",
                          "An account is already registered with your email address.", 400)
        local, gmt = self.stamp()
        cid = self.seq.user.take()
        bill = shapes.address(first_name, last_name, email=email)
        bill.update(billing or {})
        ship = shapes.address(first_name, last_name, billing=False)
        ship.update(shipping or {})
        customer = shapes.new_customer(
            cid, email=email, first_name=first_name, last_name=last_name,
            username=username or self._unique_username(email), role=role, billing=bill,
            shipping=ship, date_local=local, date_gmt=gmt)
        self.customers[cid] = customer
        self.emit("customer.created", cid)
        return customer

    def _unique_username(self, email: str) -> str:
        base = re.sub(r"[^a-z0-9._-]", "", email.split("@")[0].lower()) or "customer"
        taken = {c["username"] for c in self.customers.values()}
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        return name

    def update_customer(self, customer_id: int, **changes: Any) -> dict:
        customer = self._get(self.customers, customer_id, "woocommerce_rest_invalid_id",
                             "Invalid resource ID.")
        for key, value in changes.items():
            if key in ("billing", "shipping"):
                customer[key].update(value)
            elif key in customer and key not in ("id", "date_created", "date_created_gmt"):
                customer[key] = value
            else:
                raise ValueError(f"unknown customer field {key!r}")
        if "email" in changes:
            customer["avatar_url"] = shapes.gravatar(changes["email"])
        self.touch(customer)
        self.emit("customer.updated", customer_id)
        return customer

    def delete_customer(self, customer_id: int) -> None:
        customer = self._get(self.customers, customer_id, "woocommerce_rest_invalid_id",
                             "Invalid resource ID.")
        del self.customers[customer_id]
        # wc_reset_order_customer_id_on_deleted_user(): a direct DB update, so no order hook
        # fires and date_modified is not bumped.
        for order in self.orders.values():
            if order.get("customer_id") == customer_id:
                order["customer_id"] = 0
        if customer["role"] == "customer":  # is_valid_user_action(): only role customer
            self.emit("customer.deleted", customer_id)

    def set_paying_customer(self, customer_id: int) -> None:
        """wc_paying_customer(): first paid order flips is_paying_customer and saves the user."""
        customer = self.customers.get(customer_id)
        if customer is not None and not customer["is_paying_customer"]:
            customer["is_paying_customer"] = True
            self.touch(customer)
            self.emit("customer.updated", customer_id)

    # ---------------------------------------------------------------- products
    def create_product(self, name: str, regular_price: str, *, sale_price: str = "",
                       sku: str = "", categories: Iterable[str] = (), status: str = "publish",
                       virtual: bool = False, image_src: str | None = None) -> dict:
        local, gmt = self.stamp()
        pid = self.seq.post.take()
        slug = self._unique_slug(name)
        cats = [{"id": 9 + i, "name": c, "slug": self._slugify(c)} for i, c in enumerate(categories)]
        images = []
        if image_src:
            images.append({"id": self.seq.post.take(), "date_created": local,
                           "date_created_gmt": gmt, "date_modified": local,
                           "date_modified_gmt": gmt, "src": image_src, "name": "", "alt": ""})
        product = shapes.new_product(
            pid, name=name, slug=slug, permalink=f"{self.home_url}product/{slug}/",
            regular_price=shapes.money(regular_price),
            sale_price=shapes.money(sale_price) if sale_price else "", sku=sku,
            categories=cats, images=images, status=status, virtual=virtual,
            date_local=local, date_gmt=gmt, currency_symbol=self.currency_symbol)
        self.products[pid] = product
        self.emit("product.created", pid)
        return product

    @staticmethod
    def _slugify(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"

    def _unique_slug(self, name: str) -> str:
        base = self._slugify(name)
        taken = {p["slug"] for p in self.products.values()}
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        return slug

    def update_product(self, product_id: int, **changes: Any) -> dict:
        product = self._get(self.products, product_id, "woocommerce_rest_product_invalid_id",
                            "Invalid ID.")
        for key, value in changes.items():
            if key not in product or key in ("id", "date_created", "date_created_gmt"):
                raise ValueError(f"unknown product field {key!r}")
            product[key] = shapes.money(value) if key in ("regular_price", "sale_price") and value else value
        if {"regular_price", "sale_price"} & changes.keys():
            product["price"] = product["sale_price"] or product["regular_price"]
            product["on_sale"] = bool(product["sale_price"])
            product["price_html"] = shapes.price_html(product["price"], self.currency_symbol)
        self.touch(product)
        self.emit("product.updated", product_id)
        return product

    def delete_product(self, product_id: int, force: bool = False) -> None:
        """Trash (product.deleted with {"id"}), or hard delete with force (no webhook)."""
        product = self._get(self.products, product_id, "woocommerce_rest_product_invalid_id",
                            "Invalid ID.")
        if force:
            del self.products[product_id]
            return
        self._trashed_from[product_id] = product["status"]
        product["status"] = "trash"
        self.touch(product)
        self.emit("product.deleted", product_id)

    def restore_product(self, product_id: int) -> dict:
        product = self._get(self.products, product_id, "woocommerce_rest_product_invalid_id",
                            "Invalid ID.")
        product["status"] = self._trashed_from.pop(product_id, "draft")
        self.touch(product)
        self.emit("product.restored", product_id)
        return product

    # ----------------------------------------------------------------- coupons
    def create_coupon(self, body: dict) -> dict:
        raw = body.get("code")
        if raw is None:
            raise WCError("rest_missing_callback_param", "Missing parameter(s): code", 400,
                          params=["code"])
        # wc_format_coupon_code(): entity-decoded, trimmed, lower-cased.
        code = str(raw).strip().lower()
        if not code:
            raise WCError("woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.", 400)
        if any(c["code"] == code for c in self.coupons.values()):
            raise WCError("woocommerce_rest_coupon_code_already_exists",
                          "The coupon code already exists", 400)
        local, gmt = self.stamp()
        coupon = shapes.new_coupon(self.seq.post.take(), body, code=code,
                                   date_local=local, date_gmt=gmt)
        self.coupons[coupon["id"]] = coupon
        self.emit("coupon.created", coupon["id"])
        return coupon

    # ----------------------------------------------------------------- reviews
    def create_review(self, body: dict) -> dict:
        product = self.products.get(int(body["product_id"]))
        if product is None or product.get("type") == "variation":
            raise WCError("woocommerce_rest_product_invalid_id", "Invalid product ID.", 404)
        content = str(body.get("review") or "")
        if not content:
            raise WCError("woocommerce_rest_review_content_invalid", "Invalid review content.", 400)
        reviewer, email = str(body["reviewer"]), str(body["reviewer_email"])
        for other in self.reviews.values():  # wp_allow_comment() duplicate check
            if (other["product_id"] == product["id"] and other["review"] == content
                    and other["status"] != "trash"
                    and (other["reviewer"] == reviewer or other["reviewer_email"] == email)):
                raise WCError("woocommerce_rest_comment_duplicate",
                              "Duplicate comment detected; it looks as though you&#8217;ve "
                              "already said that!", 409)
        local, gmt = self.stamp()
        rid = self.seq.comment.take()
        review = {
            "id": rid, "date_created": local, "date_created_gmt": gmt,
            "product_id": product["id"], "product_name": product["name"],
            "product_permalink": product["permalink"],
            "status": body.get("status") or "approved", "reviewer": reviewer,
            "reviewer_email": email, "review": content, "rating": int(body.get("rating") or 0),
            # WC_Comments::add_comment_purchase_verification() runs on every new review.
            "verified": bool(body.get("verified")) or self.bought_product(email, product["id"]),
            "reviewer_avatar_urls": {str(s): shapes.gravatar(email, s) for s in (24, 48, 96)},
        }
        self.reviews[rid] = review
        self._refresh_rating(product)
        return review

    def bought_product(self, email: str, product_id: int) -> bool:
        """wc_customer_bought_product(): a paid (processing/completed) order with the product."""
        email = email.strip().lower()
        for order in self.orders.values():
            if order["status"] not in ("processing", "completed"):
                continue
            customer = self.customers.get(order.get("customer_id") or 0)
            emails = {(order["billing"].get("email") or "").lower()}
            if customer:
                emails.add(customer["email"].lower())
            if email in emails and any(i["product_id"] == product_id for i in order["line_items"]):
                return True
        return False

    def _refresh_rating(self, product: dict) -> None:
        # WC_Comments::clear_transients() recomputes the rating and saves the product, which
        # fires woocommerce_update_product (product.updated). Reviews have no topic of their own.
        ratings = [r["rating"] for r in self.reviews.values()
                   if r["product_id"] == product["id"] and r["status"] == "approved" and r["rating"]]
        product["rating_count"] = len(ratings)
        product["average_rating"] = shapes.money(sum(ratings) / len(ratings) if ratings else 0)
        self.touch(product)
        self.emit("product.updated", product["id"])

    # ---------------------------------------------------------------- webhooks
    @staticmethod
    def check_topic(topic: str) -> None:
        """wc_is_webhook_valid_topic(): a known resource.event pair or action.<wc hook>."""
        if topic not in shapes.TOPIC_HOOKS and not re.fullmatch(r"action\.(woocommerce_|wc_)\w+", topic):
            raise WCError("woocommerce_rest_webhook_invalid_topic",
                          "Webhook topic is required and must be valid.", 400)

    def create_webhook(self, topic: str, delivery_url: str, *, secret: str | None = None,
                       name: str | None = None, status: str = "active") -> Webhook:
        self.check_topic(topic)
        local, gmt = self.stamp()
        if secret is None:  # wp_generate_password(50, true, true)
            secret = self.random_token(50, string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|")
        hook = Webhook(id=self.seq.webhook.take(), topic=topic, delivery_url=delivery_url,
                       secret=secret, status=status,
                       name=name or f"Webhook created on {local.replace('T', ' ')}",
                       date_created=local, date_created_gmt=gmt, date_modified=local,
                       date_modified_gmt=gmt)
        self.webhooks[hook.id] = hook
        return hook

    def update_webhook(self, webhook_id: int, **changes: Any) -> Webhook:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise WCError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        if "topic" in changes:
            self.check_topic(changes["topic"])
        for key, value in changes.items():
            if key not in ("name", "status", "topic", "delivery_url", "secret"):
                raise ValueError(f"unknown webhook field {key!r}")
            setattr(hook, key, value)
        # Re-enabling keeps failure_count (only a successful delivery resets it).
        hook.date_modified, hook.date_modified_gmt = self.stamp()
        return hook

    def webhooks_for(self, topic: str) -> list[Webhook]:
        """Webhooks loaded for this request: only active ones are hooked (wc_load_webhooks)."""
        return [h for h in self.webhooks.values() if h.topic == topic and h.status == "active"]

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _get(table: dict[int, dict], key: int, code: str, message: str) -> dict:
        obj = table.get(key)
        if obj is None:
            raise WCError(code, message, 404)
        return obj
