"""Amounts and dates as a customer reads them, per locale and currency (Babel; pure).

Amounts arrive as decimal strings (shared/events/orders.py) and stay Decimal: a float would round
"0.1 + 0.2" for everyone. Each currency keeps its own minor units (JPY 0 decimals, KWD 3), whatever
the store's price setting wrote.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal


def money(amount: str | Decimal | None, currency: str | None, locale: Locale | str) -> str:
    """`amount` of `currency` as `locale` writes it: "¥1,500" (en), "39,98 €" (de_DE, a no-break
    space before the symbol), "KWD12.500" (en)."""
    if isinstance(amount, float):
        raise TypeError("money is Decimal or a decimal string, never float")
    value = Decimal(amount if amount is not None else "0")
    code = (currency or "").strip().upper()
    if not code:
        # An order without a currency (ingest writes ""): the number alone, with its own decimals.
        places = max(0, -int(value.as_tuple().exponent))
        return format_decimal(value, format="#,##0" + ("." + "0" * places if places else ""), locale=locale)
    return format_currency(value, code, locale=locale)


def day(moment: datetime | None, locale: Locale | str, tz: tzinfo = timezone.utc) -> str | None:
    """The calendar day of `moment` in `tz`, long form: "March 1, 2026" (en), "1. März 2026" (de).
    UTC until the store's timezone reaches the notifier with its per-store settings."""
    if moment is None:
        return None
    return format_date(moment.astimezone(tz).date(), format="long", locale=locale)
