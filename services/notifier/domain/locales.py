"""Which locale a customer's message is written in (pure).

A locale is shipped when `templates/<locale>/` exists: "en" and "de" today, and a folder named for
a region ("de_CH", "pt_BR") would win over its language's. The choice is the customer's locale when
the event carries one and we ship it, else the store's default (a setting today, a per-store value
once flows have per-store settings), else English. Formatting keeps the whole locale that was chosen
(an en_GB customer reads English with British dates, a de_CH one German with Swiss money).
"""
from __future__ import annotations

from collections.abc import Collection

from babel import Locale, UnknownLocaleError

FALLBACK = "en"


def parse_locale(tag: str | None) -> Locale | None:
    """"de_DE", "de-DE", "de", "de_DE.UTF-8" → a babel Locale; a known language with a region babel
    doesn't know ("de_XX") keeps its language; None for nothing or something that isn't a locale."""
    tag = (tag or "").strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    for candidate in dict.fromkeys((tag, tag.split("_", 1)[0])):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return None


def folder_for(locale: Locale, shipped: Collection[str]) -> str | None:
    """The shipped template folder serving `locale`: its own ("de_CH"), else its language's ("de")."""
    for name in (str(locale), locale.language):
        if name in shipped:
            return name
    return None


def choose_locale(customer_locale: str | None, store_default: str | None, shipped: Collection[str]) -> Locale:
    """The locale of one message: the first of the customer's and the store's default that we ship
    templates for, else English. Unknown or unshipped locales fall through, never fail."""
    for tag in (customer_locale, store_default):
        locale = parse_locale(tag)
        if locale is not None and folder_for(locale, shipped) is not None:
            return locale
    return Locale.parse(FALLBACK)
