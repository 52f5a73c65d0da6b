"""Amounts and dates per locale and currency (domain/formatting.py), which locale a message is
written in (domain/locales.py), and the DEFAULT_LOCALE setting that feeds the choice."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from babel import Locale
from pydantic import ValidationError

from services.notifier.bootstrap import message_config
from services.notifier.config import NotifierSettings
from services.notifier.domain.formatting import day, money
from services.notifier.domain.locales import choose_locale, folder_for, parse_locale
from services.notifier.domain.messages import MessageConfig

NBSP = "\u00a0"
SHIPPED = {"en", "de"}


@pytest.mark.parametrize("amount,currency,locale,expected", [
    ("1500", "JPY", "en", "¥1,500"),                   # no minor unit
    ("1500.00", "JPY", "en", "¥1,500"),                # whatever decimals the store wrote
    ("39.98", "EUR", "de_DE", f"39,98{NBSP}€"),        # a no-break space before the symbol
    ("39.98", "EUR", "en", "€39.98"),
    ("12.5", "KWD", "en", "KWD12.500"),                # three minor units
    ("12.5", "KWD", "de_DE", f"12,500{NBSP}KWD"),
    ("1234567.8", "USD", "en_US", "$1,234,567.80"),
    ("1234567.8", "EUR", "de_DE", f"1.234.567,80{NBSP}€"),
    ("16.2", "eur", "en", "€16.20"),                   # a lower-case code still names the currency
    ("-5.00", "EUR", "en", "-€5.00"),
])
def test_money_per_locale_and_currency(amount, currency, locale, expected):
    assert money(amount, currency, locale) == expected
    assert money(Decimal(amount), currency, locale) == expected


def test_money_never_takes_a_float():
    with pytest.raises(TypeError):
        money(39.98, "EUR", "en")  # type: ignore[arg-type]


def test_money_without_an_amount_or_a_currency():
    assert money(None, "EUR", "en") == "€0.00"
    # An order that came without a currency: the number with its own decimals, in the locale's digits.
    assert money("1234.5", "", "de_DE") == "1.234,5" and money("29.35", None, "en") == "29.35"
    assert money("1500", "", "en") == "1,500"


def test_day_in_the_customers_locale():
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
    assert day(moment, "en") == "March 1, 2026"
    assert day(moment, "en_GB") == "1 March 2026"
    assert day(moment, "de_DE") == "1. März 2026"
    assert day(None, "en") is None


@pytest.mark.parametrize("tag,expected", [
    ("de_DE", "de_DE"), ("de-DE", "de_DE"), ("de", "de"), ("DE_de", "de_DE"), ("de_DE.UTF-8", "de_DE"),
    ("en_GB", "en_GB"), ("de_XX", "de"),  # a known language with an unknown region keeps its language
    (" de-AT ", "de_AT"),
    ("xx", None), ("xx_YY", None), ("", None), (None, None), ("12", None), ("_", None),
])
def test_parse_locale(tag, expected):
    got = parse_locale(tag)
    assert (str(got) if got else None) == expected


@pytest.mark.parametrize("customer,store_default,expected", [
    ("de_DE", "en", "de_DE"),      # the customer's locale when the event carries one
    ("de-DE", "en", "de_DE"),
    ("de", "en", "de"),
    (None, "de", "de"),            # else the store's default
    (None, "de-AT", "de_AT"),
    (None, None, "en"),            # else English
    ("xx", "en", "en"),            # an unknown locale falls back
    ("xx", None, "en"),
    ("fr_FR", "en", "en"),         # a language we ship no templates for falls back too
    ("fr_FR", "de_DE", "de_DE"),   # … to the store's language first, which the shop writes in anyway
    ("en_US", "de", "en_US"),      # the customer wins over the store
    ("en_GB", None, "en_GB"),      # the whole locale is kept for formatting
])
def test_choose_locale(customer, store_default, expected):
    assert str(choose_locale(customer, store_default, SHIPPED)) == expected


def test_a_folder_for_a_region_wins_over_its_language():
    shipped = {"en", "de", "de_CH"}
    assert folder_for(Locale.parse("de_CH"), shipped) == "de_CH"
    assert folder_for(Locale.parse("de_AT"), shipped) == "de"
    assert folder_for(Locale.parse("fr_FR"), shipped) is None
    assert str(choose_locale("de_CH", None, shipped)) == "de_CH"


def test_default_locale_setting_reaches_the_messages():
    assert NotifierSettings().default_locale == "en"
    assert message_config(NotifierSettings(default_locale="de-DE")) == MessageConfig(default_locale="de-DE")
    assert MessageConfig().default_locale == "en"


@pytest.mark.parametrize("bad", ["dee_XX", "xx", "", "12"])
def test_default_locale_that_is_not_a_locale_is_refused_at_start(bad):
    with pytest.raises(ValidationError):
        NotifierSettings(default_locale=bad)


def test_default_locale_from_the_environment(monkeypatch):
    # The environment is the process's input, not our code: setting it is how an operator configures.
    monkeypatch.setenv("AFTERCART_NOTIFIER_DEFAULT_LOCALE", "de_DE")
    assert NotifierSettings().default_locale == "de_DE"
