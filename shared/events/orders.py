"""The `data` of every orders.v1 event (producer: ingest). Consumers import these models.

Money travels as decimal strings with the order's own number of decimals, exactly as WooCommerce
sent them ("29.35", or "1500" for a zero-decimal currency): no float ever touches an amount, and
`Decimal(value)` gives it back. Times are UTC and serialize as ISO-8601 with "Z".

Every model ignores unknown fields so that adding a field is not a breaking change (see EVENTS.md:
a breaking change is a new major version). `DecimalStr` and `UtcDateTime` live here because orders
are the main contract; customers.py and catalog.py import them.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _decimal_string(value: str) -> str:
    try:
        ok = Decimal(value).is_finite()
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValueError(f"not a decimal string: {value!r}")
    return value


def _unsigned_decimal_string(value: str) -> str:
    if Decimal(_decimal_string(value)) < 0:
        raise ValueError(f"negative amount: {value!r}")
    return value


def _utc(value: datetime) -> datetime:
    # A naive time would be ambiguous for every consumer: refuse it rather than guess.
    if value.tzinfo is None:
        raise ValueError("time without a UTC offset")
    return value.astimezone(timezone.utc)


DecimalStr = Annotated[str, AfterValidator(_decimal_string)]
UnsignedDecimalStr = Annotated[str, AfterValidator(_unsigned_decimal_string)]
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class CustomerRef(EventData):
    """Who the order belongs to. `key` is the partition key of orders.v1 (see shared/ids.py);
    `id` is None for guests."""
    key: str
    id: int | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    locale: str | None = None


class LineItem(EventData):
    line_id: int
    product_id: int
    variation_id: int | None = None  # None when the line is not a variation (WooCommerce sends 0)
    sku: str | None = None
    name: str
    quantity: int
    total: DecimalStr  # after discounts, before tax
    subtotal: DecimalStr | None = None  # before discounts (the price an order email lists); None: not sent


class Address(EventData):
    """A billing or shipping address as the store has it (WooCommerce's fields, blanks as None).
    Personal data: consumers keep it only as long as they need it (the notifier erases it)."""
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    address_1: str | None = None
    address_2: str | None = None
    city: str | None = None
    state: str | None = None
    postcode: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    phone: str | None = None  # billing only


class OrderDates(EventData):
    created: UtcDateTime | None = None
    paid: UtcDateTime | None = None
    completed: UtcDateTime | None = None


class OrderEvent(EventData):
    """What every order event carries (order.placed, .paid, .on_hold, .completed, .cancelled,
    .failed, .restored use it as is)."""
    store_id: str
    order_id: int
    order_number: str
    status: str
    previous_status: str | None = None  # the status ingest knew before this delivery
    customer: CustomerRef
    currency: str
    total: DecimalStr  # grand total as placed; refunds never change it
    subtotal_after_discounts: DecimalStr  # sum of line_items[].total
    tax: DecimalStr
    shipping: DecimalStr
    discount: DecimalStr
    line_items: list[LineItem]
    shipping_country: str | None = None
    dates: OrderDates
    # WooCommerce's pay-for-order link ("…/checkout/order-pay/<id>/?pay_for_order=true&key=…"),
    # what a customer whose payment failed needs; None when the store didn't send one.
    payment_url: str | None = None
    # What an order email shows beside the totals, as WooCommerce's own emails do: the payment
    # method's title ("Direct bank transfer") and the two addresses; None when the store sent none.
    payment_method_title: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    # The order's meta entries that look like a consent plugin's ({key: value}, see ingest's
    # domain/consent_meta.py); the notifier reads the key its store names. None: none found.
    consent_meta: dict[str, str] | None = None


class OrderStatusChanged(OrderEvent):
    from_status: str = Field(alias="from")
    to_status: str = Field(alias="to")


class Tracking(EventData):
    carrier: str | None = None
    number: str
    url: str | None = None
    shipped_at: UtcDateTime | None = None
    line_ids: list[int] | None = None  # only when the tracking plugin says which lines shipped


class OrderShipped(OrderEvent):
    tracking: Tracking


class RefundLine(EventData):
    """A refunded order line, with positive quantity and amount."""
    line_id: int | None = None  # the order line refunded (meta _refunded_item_id)
    product_id: int | None = None
    variation_id: int | None = None
    sku: str | None = None
    name: str | None = None
    quantity: int
    total: UnsignedDecimalStr


class Refund(EventData):
    refund_id: int
    # Positive, unlike WooCommerce's "-16.20"; 0 is possible (a refund that only restocks items).
    amount: UnsignedDecimalStr
    reason: str | None = None
    line_items: list[RefundLine] | None = None  # None = not known (refund details not fetched)
    refunded_total_so_far: DecimalStr  # all refunds of the order up to and including this one
    is_full: bool  # the order is fully refunded with this refund


class OrderRefunded(OrderEvent):
    refund: Refund


class OrderDeleted(EventData):
    """order.deleted: WooCommerce sends only the id when an order is trashed, so this carries what
    ingest remembered of it (customer.key is always set; the rest may be None). An order trashed
    and later deleted for good gets a second order.deleted, with `permanent`."""
    store_id: str
    order_id: int
    order_number: str | None = None
    status: str = "trash"
    previous_status: str | None = None
    customer: CustomerRef
    # True when the order was deleted for good (DELETE ?force=true, an emptied trash): no webhook
    # tells, reconcile found it gone from the REST API (404). False: moved to the trash.
    permanent: bool = False
