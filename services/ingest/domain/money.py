"""Money: WooCommerce amounts are decimal strings; we keep them as Decimal and write them back with
the order's own number of decimals (the `dp` WooCommerce used), never through float.

Every amount read or written is within |amount| < 10^12 with at most 6 decimals (≤ 18 significant
digits: a numeric(18,6), or a 64-bit integer of micro-units, holds any of them); beyond that the
delivery is refused (ValueOutOfRange), since no consumer could store it.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from services.ingest.domain.delivery import ValueOutOfRange

ZERO = Decimal(0)
MAX_AMOUNT = Decimal(10) ** 12  # exclusive
_BELOW_MIN = -MAX_AMOUNT
MAX_DECIMALS = 6


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """A WooCommerce amount ("29.35", "", None, or a JSON number some plugins send) as Decimal;
    `field` names it in the error."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):
        value = repr(value)  # shortest text that round-trips; Decimal(float) would add noise
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{field}: not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{field}: not an amount: {value!r}")
    if not _BELOW_MIN < amount < MAX_AMOUNT:  # two comparisons: this runs for every amount of every order
        raise _beyond(field, value)
    return amount


def within_range(amount: Decimal, field: str = "amount") -> Decimal:
    """`amount`, if within |amount| < 10^12 (a sum may outgrow its parts: sums are checked too)."""
    if not _BELOW_MIN < amount < MAX_AMOUNT:
        raise _beyond(field, amount)
    return amount


def _beyond(field: str, value: object) -> ValueOutOfRange:
    return ValueOutOfRange(f"{field}: {value} is beyond the largest amount accepted (|amount| < 10^12)")


def order_decimals(total: object) -> int:
    """The decimals an order's amounts are written with (decimals_of its total), at most 6."""
    dp = decimals_of(total)
    if dp > MAX_DECIMALS:
        raise ValueOutOfRange(f"total: {total!r} has {dp} decimals; at most {MAX_DECIMALS} are accepted")
    return dp


def decimals_of(value: object, default: int = 2) -> int:
    """How many decimals WooCommerce wrote ("29.35" → 2, "1500" → 0): the store's price decimals."""
    if not isinstance(value, str) or not value.strip():
        return default
    text = value.strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def fmt(amount: Decimal, dp: int) -> str:
    """Amount as a string with exactly `dp` decimals; never "-0.00"."""
    quantized = amount.quantize(Decimal(1).scaleb(-dp), rounding=ROUND_HALF_UP)  # as PHP round()
    if quantized == 0:
        quantized = abs(quantized)
    return f"{quantized:f}"
