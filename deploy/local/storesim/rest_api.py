"""The subset of the WooCommerce REST API (``/wp-json/wc/v3``) that Aftercart calls, served
from a :class:`~deploy.local.storesim.store.Store`.

Bodies are PHP-JSON encoded (``\\/`` escapes, like WordPress), errors are WP_Error objects
``{"code","message","data":{"status"}}``, lists carry X-WP-Total / X-WP-TotalPages / Link.

Authentication: a real store over HTTPS takes HTTP Basic (consumer key / secret) or, if the
server drops ``Authorization``, ``?consumer_key=&consumer_secret=``. Over plain HTTP a real
store refuses both and requires OAuth 1.0a one-legged signatures, which this simulator verifies
as WooCommerce does (:mod:`.oauth1`: signature, 15-minute timestamp window, single-use nonces).
``create_app(basic_over_http=False)`` is WooCommerce exactly (over http, OAuth or nothing); the
default also takes Basic over plain http, a convenience for local clients that don't sign.
Like WooCommerce: an unknown key is simply "not logged in" (401 woocommerce_rest_cannot_view
/ _cannot_create ...), a known key with a wrong secret is 401
woocommerce_rest_authentication_error "Consumer secret is invalid.", a read-only key cannot
write.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import json
import time
from typing import Any, Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import oauth1
from .coupon_schema import check_coupon_body
from .orders import ORDER_STATUSES
from .php_json import php_json_encode
from .rest_params import Args, paging_headers, to_frame
from .shapes import REST_NS
from .store import Store, WCError, Webhook

DEFAULT_CONSUMER_KEY = "ck_storesim"
DEFAULT_CONSUMER_SECRET = "cs_storesim"

Pinger = Callable[[Webhook], Awaitable[Any]]

_DENIED = {
    "list": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "view": ("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource."),
    "create": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "edit": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "delete": ("woocommerce_rest_cannot_delete",
               "Sorry, you are not allowed to delete this resource."),
}
_ORDERBY_CRUD = ("date", "id", "include", "title", "slug", "modified")


def wp_json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(php_json_encode(data), status_code=status, headers=headers,
                    media_type="application/json; charset=UTF-8")


def _credentials(request: Request) -> tuple[str | None, str | None]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return user, password
        except (binascii.Error, UnicodeDecodeError):
            return None, None
    return request.query_params.get("consumer_key"), request.query_params.get("consumer_secret")


def _oauth_key(store: Store, request: Request, now: float) -> str | None:
    """perform_oauth_authentication(): the verified consumer key, None if the request isn't OAuth."""
    params = oauth1.oauth_parameters(request.query_params.multi_items(),
                                     request.headers.get("authorization", ""))
    if params is None:
        return None
    # get_home_url() + the request path: the served URL stands for the store's home URL here.
    base_uri = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"

    def secret_of(key: str) -> tuple[str, dict[int, str]] | None:
        found = store.api_keys.get(key)
        return (found.consumer_secret, found.nonces) if found else None

    return oauth1.authenticate(request.method, base_uri, params, secret_of, now)


def _authenticate(store: Store, request: Request, basic_over_http: bool = True,
                  now: Callable[[], float] = time.time) -> bool:
    """WC_REST_Authentication: raises for authentication errors, False for "not logged in".
    https: Basic (or the query keys); http: OAuth 1.0a (and Basic too when basic_over_http)."""
    signed_key = _oauth_key(store, request, now()) if request.url.scheme != "https" else None
    if signed_key is not None:
        api_key = store.api_keys[signed_key]  # oauth1.authenticate() checked key, signature, nonce
    else:
        if request.url.scheme != "https" and not basic_over_http:
            return False
        key, secret = _credentials(request)
        api_key = store.api_keys.get(key or "")
        if api_key is None:
            return False
        if not hmac.compare_digest(api_key.consumer_secret.encode(), (secret or "").encode()):
            raise WCError("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
    writing = request.method not in ("GET", "HEAD", "OPTIONS")
    if writing and api_key.permissions == "read":
        raise WCError("woocommerce_rest_authentication_error",
                      "The API key provided does not have write permissions.", 401)
    if not writing and api_key.permissions == "write":
        raise WCError("woocommerce_rest_authentication_error",
                      "The API key provided does not have read permissions.", 401)
    return True


def _filter_fields(item: dict, fields: list[str]) -> dict:
    # rest_filter_response_fields(): _links survive only if asked for.
    return {k: v for k, v in item.items() if k in fields} if fields else item


def _sort(items: list[dict], orderby: str, order: str, include: list[int],
          extra_keys: dict[str, Callable[[dict], Any]] | None = None) -> list[dict]:
    if orderby == "include" and include:
        rank = {v: i for i, v in enumerate(include)}
        items = sorted(items, key=lambda o: rank.get(o["id"], len(rank)))
        return items if order == "asc" else items[::-1]
    keys = {"date": lambda o: (o.get("date_created_gmt") or "", o["id"]),
            "modified": lambda o: (o.get("date_modified_gmt") or "", o["id"]),
            "title": lambda o: (str(o.get("name") or o.get("code") or o["id"]), o["id"]),
            "slug": lambda o: (str(o.get("slug") or o["id"]), o["id"]), **(extra_keys or {})}
    return sorted(items, key=keys.get(orderby, lambda o: o["id"]), reverse=order == "desc")


async def _body(request: Request) -> dict[str, Any]:
    """WP merges query, form and JSON parameters (JSON wins)."""
    params: dict[str, Any] = dict(request.query_params)
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    if raw and "json" in ctype:
        try:
            data = json.loads(raw)
        except ValueError:
            raise WCError("rest_invalid_json", "Invalid JSON body passed.", 400,
                          json_error_code=4, json_error_message="Syntax error")
        if isinstance(data, dict):
            params.update(data)
    elif raw and "form" in ctype:
        params.update((await request.form()).items())
    return params


def _missing(params: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if params.get(n) is None]
    if missing:
        raise WCError("rest_missing_callback_param",
                      f"Missing parameter(s): {', '.join(missing)}", 400, params=missing)


def create_app(store: Store, *, consumer_key: str | None = None,
               consumer_secret: str | None = None, ping: Pinger | None = None,
               basic_over_http: bool = True, oauth_clock: Callable[[], float] = time.time) -> FastAPI:
    """FastAPI app serving ``store``. ``consumer_key``/``consumer_secret`` are registered as a
    read_write key; with none given and none in the store, ``ck_storesim``/``cs_storesim``.
    ``ping`` (async, called with the Webhook) is used where WooCommerce pings a webhook.
    ``basic_over_http=False``: over plain http only OAuth 1.0a logs in, as in WooCommerce.
    ``oauth_clock`` (Unix seconds) judges OAuth timestamps: the server's real clock, not the
    store's (which tests move around)."""
    if consumer_key:
        store.add_api_key(consumer_key, consumer_secret or "")
    elif not store.api_keys:
        store.add_api_key(DEFAULT_CONSUMER_KEY, DEFAULT_CONSUMER_SECRET)

    app = FastAPI(title="WooCommerce store simulator", openapi_url=None, docs_url=None,
                  redoc_url=None)
    app.state.store = store
    api = APIRouter(prefix="/" + REST_NS)
    collection_url = f"{store.home_url}{REST_NS}/"

    @app.exception_handler(WCError)
    async def _wc_error(_: Request, exc: WCError) -> Response:
        return wp_json(exc.body(), exc.status)

    @app.exception_handler(StarletteHTTPException)
    @app.exception_handler(RequestValidationError)
    async def _no_route(_: Request, exc: Exception) -> Response:
        return wp_json({"code": "rest_no_route",
                        "message": "No route was found matching the URL and request method.",
                        "data": {"status": 404}}, 404)

    def guard(request: Request, action: str) -> None:
        if not request.state.authenticated:
            code, message = _DENIED[action]
            raise WCError(code, message, 401)

    @app.middleware("http")
    async def _auth(request: Request, call_next):  # check_authentication() runs first
        request.state.authenticated = False
        if request.url.path.startswith("/" + REST_NS):
            try:
                request.state.authenticated = _authenticate(store, request, basic_over_http, oauth_clock)
            except WCError as exc:
                return wp_json(exc.body(), exc.status)
        return await call_next(request)

    def paged_list(request: Request, rest_base: str, items: list[dict], args: Args,
                   view: Callable[[dict], dict | None], *, default_orderby: str = "date",
                   orderbys: tuple[str, ...] = _ORDERBY_CRUD, default_order: str = "desc",
                   include: list[int] | None = None,
                   sort_keys: dict[str, Callable[[dict], Any]] | None = None) -> Response:
        page = args.int("page", 1, minimum=1)
        per_page = args.int("per_page", 10, minimum=1, maximum=100)
        offset = args.int("offset")
        orderby = args.enum("orderby", orderbys, default_orderby)
        order = args.enum("order", ("asc", "desc"), default_order)
        fields = args.list("_fields")
        args.check()
        guard(request, "list")
        ordered = _sort(items, orderby, order, include or [], sort_keys)
        start = offset if offset is not None else (page - 1) * per_page
        body = [_filter_fields(view(o), fields) for o in ordered[start:start + per_page]]
        headers = paging_headers(collection_url + rest_base, request.query_params, page,
                                 per_page, len(ordered))
        return wp_json(body, headers=headers)

    def date_filtered(items: list[dict], args: Args) -> list[dict]:
        """after/before (created) and modified_after/modified_before, all exclusive."""
        gmt = args.bool("dates_are_gmt")
        suffix = "_gmt" if gmt else ""
        bounds = [("after", "date_created", 1), ("before", "date_created", -1),
                  ("modified_after", "date_modified", 1), ("modified_before", "date_modified", -1)]
        for name, field, direction in bounds:
            value = to_frame(args.date(name), gmt, store.utc_offset)
            if value is None:
                continue
            limit = value.replace(microsecond=0).isoformat(timespec="seconds")[:19]
            items = [o for o in items if o.get(field + suffix)
                     and ((o[field + suffix] > limit) if direction > 0 else (o[field + suffix] < limit))]
        return items

    def id_filtered(items: list[dict], args: Args) -> tuple[list[dict], list[int]]:
        include, exclude = args.int_list("include"), args.int_list("exclude")
        if include:
            items = [o for o in items if o["id"] in include]
        if exclude:
            items = [o for o in items if o["id"] not in exclude]
        return items, include

    def single(request: Request, action: str, view: dict | None, code: str,
               message: str = "Invalid ID.") -> Response:
        args = Args(request.query_params)
        fields = args.list("_fields")
        guard(request, action)
        if view is None:
            raise WCError(code, message, 404)
        return wp_json(_filter_fields(view, fields))

    # ------------------------------------------------------------------ orders
    @api.get("/orders")
    async def list_orders(request: Request) -> Response:
        args = Args(request.query_params)
        statuses = args.enum_list("status", ("any",) + ORDER_STATUSES, ["any"])
        items = list(store.orders.values())
        if "any" in statuses:
            items = [o for o in items if o["status"] != "trash"]
        else:
            items = [o for o in items if o["status"] in statuses]
        customer, product = args.int("customer"), args.int("product")
        if customer is not None:
            items = [o for o in items if o["customer_id"] == customer]
        if product is not None:
            items = [o for o in items if any(li["product_id"] == product for li in o["line_items"])]
        items, include = id_filtered(date_filtered(items, args), args)
        return paged_list(request, "orders", items, args,
                          lambda o: store.order_view(o["id"]), include=include)

    @api.get("/orders/{order_id:int}")
    async def get_order(request: Request, order_id: int) -> Response:
        return single(request, "view", store.order_view(order_id),
                      "woocommerce_rest_shop_order_invalid_id")

    @api.delete("/orders/{order_id:int}")
    async def delete_order(request: Request, order_id: int) -> Response:
        # WC_REST_Orders_Controller::delete_item(): to the trash (order.deleted fires), or with
        # force=true deleted for good (no webhook; GET answers 404 from then on). Either way the
        # answer is the order as it was just before.
        args = Args(request.query_params)
        force = args.bool("force")
        args.check()
        guard(request, "delete")
        view = store.order_view(order_id)
        if view is None:
            raise WCError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
        if force:
            store.delete_order(order_id)
        elif view["status"] == "trash":
            raise WCError("woocommerce_rest_already_trashed", "The shop_order has already been deleted.", 410)
        else:
            store.trash_order(order_id)
            view = store.order_view(order_id)
        return wp_json(view)

    @api.get("/orders/{order_id:int}/refunds")
    async def list_refunds(request: Request, order_id: int) -> Response:
        args = Args(request.query_params)
        if order_id not in store.orders:
            args.check()
            guard(request, "list")
            raise WCError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        items = [store.refunds[r] for r, parent in store.refund_parent.items() if parent == order_id]
        return paged_list(request, f"orders/{order_id}/refunds", items, args,
                          lambda r: store.refund_view(r["id"]))

    @api.get("/orders/{order_id:int}/refunds/{refund_id:int}")
    async def get_refund(request: Request, order_id: int, refund_id: int) -> Response:
        guard(request, "view")
        if refund_id not in store.refunds:
            raise WCError("woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID.", 404)
        if order_id not in store.orders:
            raise WCError("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404)
        if store.refund_parent.get(refund_id) != order_id:
            raise WCError("woocommerce_rest_invalid_order_refund_id", "Invalid order refund ID.", 404)
        return single(request, "view", store.refund_view(refund_id),
                      "woocommerce_rest_shop_order_refund_invalid_id")

    # ---------------------------------------------------------------- products
    @api.get("/products/reviews")
    async def list_reviews(request: Request) -> Response:
        args = Args(request.query_params)
        status = args.enum("status", ("all", "hold", "approved", "spam", "trash"), "approved")
        context = args.enum("context", ("view", "edit"), "view")
        products = args.int_list("product")
        email = args._raw("reviewer_email")
        items = [r for r in store.reviews.values() if status == "all" or r["status"] == status]
        if products:
            items = [r for r in items if r["product_id"] in products]
        if email:
            items = [r for r in items if r["reviewer_email"].lower() == str(email).lower()]
        items, include = id_filtered(items, args)
        return paged_list(request, "products/reviews", items, args,
                          lambda r: store.review_view(r["id"], context), default_orderby="date_gmt",
                          orderbys=("date", "date_gmt", "id", "include", "product"),
                          include=include,
                          sort_keys={"date_gmt": lambda r: (r["date_created_gmt"], r["id"]),
                                     "product": lambda r: (r["product_id"], r["id"])})

    @api.post("/products/reviews")
    async def create_review(request: Request) -> Response:
        params = await _body(request)
        _missing(params, "product_id", "review", "reviewer", "reviewer_email")
        args = Args(params)
        args.int("product_id")
        args.int("rating", minimum=0, maximum=5)
        if "@" not in str(params["reviewer_email"]):
            args._fail("reviewer_email", "rest_invalid_email", "Invalid email address.")
        args.check()
        guard(request, "create")
        review = store.create_review(params)
        url = f"{store.home_url}{REST_NS}/products/reviews/{review['id']}"
        # An API key's user can moderate comments, so the response uses the edit context.
        return wp_json(store.review_view(review["id"], context="edit"), 201,
                       headers={"Location": url})

    @api.get("/products/reviews/{review_id:int}")
    async def get_review(request: Request, review_id: int) -> Response:
        args = Args(request.query_params)
        context = args.enum("context", ("view", "edit"), "view")
        args.check()
        return single(request, "view", store.review_view(review_id, context),
                      "woocommerce_rest_review_invalid_id", "Invalid review ID.")

    @api.get("/products")
    async def list_products(request: Request) -> Response:
        args = Args(request.query_params)
        status = args.enum("status", ("any", "future", "trash", "draft", "pending", "private",
                                      "publish"), "any")
        sku = args._raw("sku")
        items = list(store.products.values())
        items = [p for p in items if (p["status"] != "trash" if status == "any" else p["status"] == status)]
        if sku:
            skus = str(sku).split(",")
            items = [p for p in items if p["sku"] in skus]
        items, include = id_filtered(date_filtered(items, args), args)
        return paged_list(request, "products", items, args,
                          lambda p: store.product_view(p["id"]), include=include)

    @api.get("/products/{product_id:int}")
    async def get_product(request: Request, product_id: int) -> Response:
        return single(request, "view", store.product_view(product_id),
                      "woocommerce_rest_product_invalid_id")

    # --------------------------------------------------------------- customers
    @api.get("/customers")
    async def list_customers(request: Request) -> Response:
        # WP_User_Query: no modified_after / dates filters (unknown params are ignored).
        args = Args(request.query_params)
        role = args.enum("role", ("all", "administrator", "editor", "author", "contributor",
                                  "subscriber", "customer", "shop_manager"), "customer")
        email = args._raw("email")
        items = [c for c in store.customers.values() if role == "all" or c["role"] == role]
        if email:
            items = [c for c in items if c["email"].lower() == str(email).lower()]
        items, include = id_filtered(items, args)
        def display_name(c: dict) -> tuple[str, int]:
            return ((f"{c['first_name']} {c['last_name']}".strip() or c["username"]).lower(), c["id"])

        return paged_list(request, "customers", items, args,
                          lambda c: store.customer_view(c["id"]), default_orderby="name",
                          orderbys=("id", "include", "name", "registered_date"),
                          default_order="asc", include=include,
                          sort_keys={"name": display_name,
                                     "registered_date": lambda c: (c["date_created_gmt"], c["id"])})

    @api.get("/customers/{customer_id:int}")
    async def get_customer(request: Request, customer_id: int) -> Response:
        return single(request, "view", store.customer_view(customer_id),
                      "woocommerce_rest_invalid_id", "Invalid resource ID.")

    # ----------------------------------------------------------------- coupons
    @api.get("/coupons")
    async def list_coupons(request: Request) -> Response:
        args = Args(request.query_params)
        code = args._raw("code")
        items = list(store.coupons.values())
        if code:
            items = [c for c in items if c["code"] == str(code).strip().lower()]
        items, include = id_filtered(date_filtered(items, args), args)
        return paged_list(request, "coupons", items, args,
                          lambda c: store.coupon_view(c["id"]), include=include)

    @api.post("/coupons")
    async def create_coupon(request: Request) -> Response:
        params = await _body(request)
        _missing(params, "code")
        params = check_coupon_body(params)
        guard(request, "create")
        coupon = store.create_coupon(params)
        return wp_json(store.coupon_view(coupon["id"]), 201,
                       headers={"Location": f"{store.home_url}{REST_NS}/coupons/{coupon['id']}"})

    @api.get("/coupons/{coupon_id:int}")
    async def get_coupon(request: Request, coupon_id: int) -> Response:
        return single(request, "view", store.coupon_view(coupon_id),
                      "woocommerce_rest_shop_coupon_invalid_id")

    # ---------------------------------------------------------------- webhooks
    _WEBHOOK_STATUSES = ("active", "paused", "disabled")

    @api.get("/webhooks")
    async def list_webhooks(request: Request) -> Response:
        args = Args(request.query_params)
        status = args.enum("status", ("all",) + _WEBHOOK_STATUSES, "all")
        items = [h.as_rest() for h in store.webhooks.values()
                 if status == "all" or h.status == status]
        items, include = id_filtered(items, args)
        return paged_list(request, "webhooks", items, args,
                          lambda h: store.webhook_view(h["id"]),
                          orderbys=("date", "id", "include", "title"), include=include)

    @api.post("/webhooks")
    async def create_webhook(request: Request) -> Response:
        params = await _body(request)
        _missing(params, "topic", "delivery_url")
        args = Args(params)
        status = args.enum("status", _WEBHOOK_STATUSES, "active")
        args.check()
        guard(request, "create")
        if not str(params["delivery_url"]).startswith(("http://", "https://")):
            raise WCError("woocommerce_rest_webhook_invalid_delivery_url",
                          "Webhook delivery URL must be a valid URL starting with http:// or https://.", 400)
        hook = store.create_webhook(str(params["topic"]), str(params["delivery_url"]),
                                    secret=params.get("secret"), name=params.get("name"),
                                    status=status)
        if ping is not None:  # create_item() always pings and ignores the result
            await ping(hook)
        return wp_json(store.webhook_view(hook.id), 201,
                       headers={"Location": f"{store.home_url}{REST_NS}/webhooks/{hook.id}"})

    @api.get("/webhooks/{webhook_id:int}")
    async def get_webhook(request: Request, webhook_id: int) -> Response:
        return single(request, "view", store.webhook_view(webhook_id),
                      "woocommerce_rest_webhook_invalid_id")

    @api.api_route("/webhooks/{webhook_id:int}", methods=["PUT", "PATCH", "POST"])
    async def update_webhook(request: Request, webhook_id: int) -> Response:
        params = await _body(request)
        args = Args(params)
        args.enum("status", _WEBHOOK_STATUSES, None)
        args.check()
        guard(request, "edit")
        hook = store.webhooks.get(webhook_id)
        if hook is None:
            raise WCError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        old_url = hook.delivery_url
        changes = {k: params[k] for k in ("name", "status", "topic", "delivery_url", "secret")
                   if k in params}
        store.update_webhook(webhook_id, **changes)
        # WC_Webhook_Data_Store::update(): ping an active webhook whose URL changed or that
        # never got a 200 ping. Re-enabling alone does not ping or reset failure_count.
        if ping is not None and hook.status == "active" and (
                hook.delivery_url != old_url or hook.pending_delivery):
            await ping(hook)
        return wp_json(store.webhook_view(webhook_id))

    @api.delete("/webhooks/{webhook_id:int}")
    async def delete_webhook(request: Request, webhook_id: int) -> Response:
        args = Args(request.query_params)
        force = args.bool("force")
        args.check()
        guard(request, "delete")
        view = store.webhook_view(webhook_id)
        if view is None:
            raise WCError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        if not force:
            raise WCError("woocommerce_rest_trash_not_supported",
                          "Webhooks do not support trashing.", 501)
        del store.webhooks[webhook_id]
        return wp_json(view)

    app.include_router(api)
    return app
