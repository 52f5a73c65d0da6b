"""Money: WooCommerce amounts are decimal strings; we keep them as Decimal and write them back with
the order's own number of decimals (the `dp` WooCommerce used), never through float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal(0)


def to_decimal(value: object) -> Decimal:
    """A WooCommerce amount ("29.35", "", None, or a JSON number some plugins send) as Decimal."""
    if value is None or value == "":
        return ZERO
    if isinstance(value, float):
        value = repr(value)  # shortest text that round-trips; Decimal(float) would add noise
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


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
