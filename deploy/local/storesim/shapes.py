"""REST v3 resource shapes used by the store simulator.

Each builder returns a dict with the same keys, in the same order, as the real payloads in
tests/fixtures/woocommerce/ (the WooCommerce REST API docs examples and the woocommerce-ios
fixtures). Orders also carry the fields newer WooCommerce adds (see webhooks.md §6):
``payment_url``, ``is_editable``, ``needs_payment``, ``needs_processing``, ``currency_symbol``,
``shipping.phone``, ``line_items[].image`` and ``line_items[].parent_name``.

``_links`` are never stored: :func:`links` rebuilds them from the store's home URL when an
object is served, as WordPress does.
"""
from __future__ import annotations

import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

REST_NS = "wp-json/wc/v3"

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "\u20ac", "GBP": "\u00a3", "BRL": "R$", "JPY": "\u00a5"}

# WC_Webhook::get_default_topic_hooks() (current trunk), returned as "hooks" by /webhooks.
TOPIC_HOOKS: dict[str, list[str]] = {
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded",
                      "woocommerce_delete_order_refund"],
    "order.deleted": ["wp_trash_post", "woocommerce_trash_order"],
    "order.restored": ["untrashed_post", "woocommerce_untrash_order"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product",
                        "woocommerce_new_product_variation"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product",
                        "woocommerce_update_product_variation"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
    "product.published": ["woocommerce_product_published"],
}


def money(value: Any) -> str:
    """wc_format_decimal(value, 2): money is always a string with 2 decimals."""
    return str(Decimal(str(value or "0")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def gravatar(email: str, size: int = 96) -> str:
    digest = hashlib.md5(email.strip().lower().encode()).hexdigest()
    return f"https://secure.gravatar.com/avatar/{digest}?s={size}&d=mm&r=g"


def links(home_url: str, kind: str, obj: dict[str, Any], parent_id: int | None = None) -> dict:
    """The ``_links`` WooCommerce adds to each resource (prepare_links() of each controller)."""
    base = f"{home_url}{REST_NS}"
    if kind == "refund":
        out = {"self": [{"href": f"{base}/orders/{parent_id}/refunds/{obj['id']}"}],
               "collection": [{"href": f"{base}/orders/{parent_id}/refunds"}],
               "up": [{"href": f"{base}/orders/{parent_id}"}]}
        return out
    if kind == "review":
        out = {"self": [{"href": f"{base}/products/reviews/{obj['id']}"}],
               "collection": [{"href": f"{base}/products/reviews"}]}
        if obj.get("product_id"):
            out["up"] = [{"href": f"{base}/products/{obj['product_id']}"}]
        return out
    rest_base = {"order": "orders", "customer": "customers", "product": "products",
                 "coupon": "coupons", "webhook": "webhooks"}[kind]
    out = {"self": [{"href": f"{base}/{rest_base}/{obj['id']}"}],
           "collection": [{"href": f"{base}/{rest_base}"}]}
    if kind == "order":
        if obj.get("customer_id"):
            out["customer"] = [{"href": f"{base}/customers/{obj['customer_id']}"}]
        if obj.get("parent_id"):
            out["up"] = [{"href": f"{base}/orders/{obj['parent_id']}"}]
    elif kind == "product" and obj.get("parent_id"):
        out["up"] = [{"href": f"{base}/products/{obj['parent_id']}"}]
    return out


def address(first_name: str = "", last_name: str = "", *, email: str | None = None,
            phone: str = "", company: str = "", address_1: str = "", address_2: str = "",
            city: str = "", state: str = "", postcode: str = "", country: str = "",
            billing: bool = True) -> dict[str, Any]:
    out = {"first_name": first_name, "last_name": last_name, "company": company,
           "address_1": address_1, "address_2": address_2, "city": city, "state": state,
           "postcode": postcode, "country": country}
    if billing:
        out["email"] = email
    out["phone"] = phone  # shipping.phone exists since WC 5.6
    return out


def new_customer(cid: int, *, email: str, first_name: str, last_name: str, username: str,
                 role: str, billing: dict, shipping: dict, date_local: str, date_gmt: str) -> dict:
    return {
        "id": cid, "date_created": date_local, "date_created_gmt": date_gmt,
        "date_modified": date_local, "date_modified_gmt": date_gmt,
        "email": email, "first_name": first_name, "last_name": last_name, "role": role,
        "username": username, "billing": billing, "shipping": shipping,
        "is_paying_customer": False, "avatar_url": gravatar(email), "meta_data": [],
    }


def new_product(pid: int, *, name: str, slug: str, permalink: str, regular_price: str,
                sale_price: str, sku: str, categories: list[dict], images: list[dict],
                status: str, virtual: bool, date_local: str, date_gmt: str,
                currency_symbol: str = "$") -> dict:
    price = sale_price or regular_price
    return {
        "id": pid, "name": name, "slug": slug, "permalink": permalink,
        "date_created": date_local, "date_created_gmt": date_gmt,
        "date_modified": date_local, "date_modified_gmt": date_gmt,
        "type": "simple", "status": status, "featured": False, "catalog_visibility": "visible",
        "description": "", "short_description": "", "sku": sku,
        "price": price, "regular_price": regular_price, "sale_price": sale_price,
        "date_on_sale_from": None, "date_on_sale_from_gmt": None,
        "date_on_sale_to": None, "date_on_sale_to_gmt": None,
        "price_html": price_html(price, currency_symbol), "on_sale": bool(sale_price),
        "purchasable": True, "total_sales": 0, "virtual": virtual, "downloadable": False,
        "downloads": [], "download_limit": -1, "download_expiry": -1, "external_url": "",
        "button_text": "", "tax_status": "taxable", "tax_class": "", "manage_stock": False,
        "stock_quantity": None, "stock_status": "instock", "backorders": "no",
        "backorders_allowed": False, "backordered": False, "sold_individually": False,
        "weight": "", "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": not virtual, "shipping_taxable": not virtual,
        "shipping_class": "", "shipping_class_id": 0, "reviews_allowed": True,
        "average_rating": "0.00", "rating_count": 0, "related_ids": [], "upsell_ids": [],
        "cross_sell_ids": [], "parent_id": 0, "purchase_note": "", "categories": categories,
        "tags": [], "images": images, "attributes": [], "default_attributes": [],
        "variations": [], "grouped_products": [], "menu_order": 0, "meta_data": [],
    }


def price_html(price: str, symbol: str) -> str:
    if not price:
        return ""
    entity = "&#36;" if symbol == "$" else symbol
    return ('<span class="woocommerce-Price-amount amount"><span class="woocommerce-Price-'
            f'currencySymbol">{entity}</span>{price}</span>')


def line_item(item_id: int, product: dict, quantity: int) -> dict:
    total = money(Decimal(product["price"] or "0") * quantity)
    image = product["images"][0] if product.get("images") else None
    return {
        "id": item_id, "name": product["name"], "product_id": product["id"], "variation_id": 0,
        "quantity": quantity, "tax_class": "", "subtotal": total, "subtotal_tax": "0.00",
        "total": total, "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": product["sku"],
        # A JSON *number*: total / quantity computed by PHP (float division).
        "price": float(Decimal(total)) / max(1, quantity),
        "image": {"id": image["id"], "src": image["src"]} if image else {"id": "", "src": ""},
        "parent_name": None,
    }


def shipping_line(item_id: int, total: str, method_title: str = "Flat rate",
                  method_id: str = "flat_rate", instance_id: str = "1") -> dict:
    return {"id": item_id, "method_title": method_title, "method_id": method_id,
            "instance_id": instance_id, "total": money(total), "total_tax": "0.00",
            "taxes": [], "meta_data": []}


def new_coupon(cid: int, body: dict, *, code: str, date_local: str, date_gmt: str) -> dict:
    """Coupon as returned by POST /coupons (docs example shape), defaults like WC_Coupon."""
    def ints(key: str) -> list[int]:
        return [int(x) for x in body.get(key) or []]

    def opt_int(key: str) -> int | None:
        value = body.get(key)
        return int(value) if value not in (None, "", 0, "0") else None

    expires = body.get("date_expires") or body.get("date_expires_gmt")
    return {
        "id": cid, "code": code, "amount": money(body.get("amount", "0")),
        "date_created": date_local, "date_created_gmt": date_gmt,
        "date_modified": date_local, "date_modified_gmt": date_gmt,
        "discount_type": body.get("discount_type") or "fixed_cart",
        "description": str(body.get("description") or ""),
        "date_expires": expires[:19] if expires else None,
        "date_expires_gmt": expires[:19] if expires else None,
        "usage_count": 0, "individual_use": bool(body.get("individual_use", False)),
        "product_ids": ints("product_ids"), "excluded_product_ids": ints("excluded_product_ids"),
        "usage_limit": opt_int("usage_limit"), "usage_limit_per_user": opt_int("usage_limit_per_user"),
        "limit_usage_to_x_items": opt_int("limit_usage_to_x_items"),
        "free_shipping": bool(body.get("free_shipping", False)),
        "product_categories": ints("product_categories"),
        "excluded_product_categories": ints("excluded_product_categories"),
        "exclude_sale_items": bool(body.get("exclude_sale_items", False)),
        "minimum_amount": money(body.get("minimum_amount") or "0"),
        "maximum_amount": money(body.get("maximum_amount") or "0"),
        "email_restrictions": [str(e).strip().lower() for e in body.get("email_restrictions") or []],
        "used_by": [], "meta_data": list(body.get("meta_data") or []),
    }


def wpautop(text: str) -> str:
    """Enough of WordPress' wpautop() for plain review text: paragraphs and <br />."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + p.replace("\n", "<br />\n") + "</p>\n" for p in paragraphs)
