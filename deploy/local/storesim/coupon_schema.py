"""POST /coupons as WooCommerce checks it (WC_REST_Coupons_Controller::get_item_schema() through
rest_validate_value_from_schema(), then the controller's sanitizing): every invalid argument is
reported at once as ``rest_invalid_param``; strings must be strings (a JSON number for ``amount``
is refused, as WordPress refuses it), integers integers, booleans booleans, ``email_restrictions``
a list of strings — and, like WooCommerce (sanitize_email()), an address that isn't one is dropped
silently, not refused. Kept apart from rest_api.py so the simulator's coupon rules live in one file."""
from __future__ import annotations

import re
from typing import Any

from .rest_params import Args

_STRINGS = ("code", "amount", "description", "minimum_amount", "maximum_amount")
_INTEGERS = ("usage_limit", "usage_limit_per_user", "limit_usage_to_x_items")
_BOOLEANS = ("individual_use", "free_shipping", "exclude_sale_items")
_INT_LISTS = ("product_ids", "excluded_product_ids", "product_categories", "excluded_product_categories")
# What sanitize_email() keeps: local@domain with a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_MONEY = re.compile(r"^-?\d*(\.\d+)?$")


def check_coupon_body(params: dict[str, Any]) -> dict[str, Any]:
    """Raises WCError(rest_invalid_param) for what WooCommerce refuses; returns the params as the
    controller goes on with them (invalid emails dropped)."""
    args = Args(params)
    for name in _STRINGS:
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            args._fail(name, "rest_invalid_type", f"{name} is not of type string.")
        elif name != "code" and name != "description" and value and not _MONEY.match(value.strip()):
            # wc_format_decimal() would turn it into 0: WooCommerce stores an empty amount.
            params[name] = "0"
    for name in _INTEGERS:
        value = params.get(name)
        if value is not None and (isinstance(value, bool) or not re.fullmatch(r"-?\d+", str(value))):
            args._fail(name, "rest_invalid_type", f"{name} is not of type integer.")
    for name in _BOOLEANS:
        value = params.get(name)
        if value is not None and not (isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")):
            args._fail(name, "rest_invalid_type", f"{name} is not of type boolean.")
    for name in _INT_LISTS:
        value = params.get(name)
        if value is not None and (not isinstance(value, list) or not all(re.fullmatch(r"\d+", str(v)) for v in value)):
            args._fail(name, "rest_invalid_type", f"{name} is not of type array.")
    emails = params.get("email_restrictions")
    if emails is not None:
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            args._fail("email_restrictions", "rest_invalid_type", "email_restrictions[0] is not of type string.")
        else:
            params["email_restrictions"] = [e.strip() for e in emails if _EMAIL.match(e.strip())]
    args.enum("discount_type", ("percent", "fixed_cart", "fixed_product"), None)
    for name in ("date_expires", "date_expires_gmt"):
        expires = params.get(name)
        if expires is not None and not isinstance(expires, str):
            args._fail(name, "rest_invalid_type", f"{name} is not of type string,null.")
        else:
            args.date(name)
    args.check()
    return params
