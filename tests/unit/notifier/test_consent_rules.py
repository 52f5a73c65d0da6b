"""The pure consent rules: consent from a store's meta, the newest statement winning (meta never
undoing an unsubscribe), suppression reasons, address checks, quiet hours in the customer's zone,
the 7-day budget, signed unsubscribe links and the digest's shape."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeTimedSerializer

from services.notifier.domain import consent as c
from services.notifier.domain.budget import budget_until
from services.notifier.domain.digest import Part, build_digest
from services.notifier.domain.links import (SALT, BadLink, ExpiredLink, LinkSigner, UnsubscribeTarget,
                                            derived_secret, one_click_headers, with_footer)
from services.notifier.domain.quiet_hours import customer_zone, quiet_until

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("1", True), ("On", True), ("true", True),
                                                  ("no", False), ("0", False), ("", False), ("maybe", None)])
def test_meta_consent_reads_the_stores_key(value, expected):
    assert c.meta_consent({"_newsletter_opt_in": value}, "_newsletter_opt_in") is expected


def test_meta_consent_needs_the_key_named():
    assert c.meta_consent({"_newsletter_opt_in": "yes"}, None) is None
    assert c.meta_consent({"_newsletter_opt_in": "yes"}, "other") is None
    assert c.meta_consent(None, "x") is None


def test_the_newest_statement_wins_but_meta_never_undoes_an_unsubscribe():
    granted = c.apply_statement(None, True, c.META, T0)
    assert granted == c.ConsentRecord(True, c.META, T0)
    assert c.apply_statement(granted, True, c.META, T0 + timedelta(days=1)) is None  # same answer
    assert c.apply_statement(granted, False, c.META, T0 - timedelta(days=1)) is None  # older
    out = c.apply_statement(granted, False, c.UNSUBSCRIBE_LINK, T0 + timedelta(days=1))
    assert out is not None and out.marketing is False
    # A later checkout with the plugin's box ticked doesn't re-subscribe them ...
    assert c.apply_statement(out, True, c.META, T0 + timedelta(days=2)) is None
    # ... the preferences page does.
    again = c.apply_statement(out, True, c.PREFERENCES, T0 + timedelta(days=2))
    assert again is not None and again.consents


def test_unsubscribed_stops_marketing_only_the_rest_stop_everything():
    assert c.blocks({c.UNSUBSCRIBED}, marketing=True) == c.UNSUBSCRIBED
    assert c.blocks({c.UNSUBSCRIBED}, marketing=False) is None
    for reason in (c.HARD_BOUNCE, c.ERASED, c.INVALID_ADDRESS):
        assert c.blocks({reason}, marketing=False) == reason
    assert c.blocks({c.UNSUBSCRIBED, c.ERASED}, marketing=True) == c.ERASED
    assert c.blocks(set(), marketing=True) is None


def test_address_hash_is_of_the_trimmed_lowercased_address():
    assert c.address_hash(" Ana@Example.COM ") == c.address_hash("ana@example.com")
    assert len(c.address_hash("ana@example.com")) == 64 and "ana" not in c.address_hash("ana@example.com")


@pytest.mark.parametrize(("address", "ok"), [("ana@example.com", True), ("a.b+c@mail.example.de", True),
                                              ("ana@localhost", False), ("ana example.com", False),
                                              ("", False), (None, False), ("a@b@example.com", False),
                                              ("Ana <ana@example.com>", False), ("ana@example.com\nBcc: x", False)])
def test_valid_address(address, ok):
    assert c.valid_address(address) is ok


def test_the_zone_is_the_customers_else_the_shipping_countrys_else_the_stores():
    assert customer_zone("Asia/Tokyo", "DE", "Europe/Berlin") == ZoneInfo("Asia/Tokyo")
    assert customer_zone(None, "JP", "Europe/Berlin") == ZoneInfo("Asia/Tokyo")
    # A country of several zones: the store's when it is one of them, else the country's main one.
    assert customer_zone(None, "US", "America/Denver") == ZoneInfo("America/Denver")
    assert customer_zone(None, "US", "Europe/Berlin") == ZoneInfo("America/New_York")
    assert customer_zone(None, None, "Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert customer_zone("Not/AZone", "??", None) == ZoneInfo("UTC")


def test_quiet_hours_across_midnight_end_in_the_local_morning():
    berlin, start, end = ZoneInfo("Europe/Berlin"), time(21, 0), time(8, 0)
    # 22:30 UTC = 23:30 in Berlin (winter): quiet until 08:00 Berlin = 07:00 UTC next day.
    assert quiet_until(datetime(2026, 3, 2, 22, 30, tzinfo=timezone.utc), berlin, start, end) == datetime(
        2026, 3, 3, 7, 0, tzinfo=timezone.utc)
    # 05:00 UTC = 06:00 Berlin: quiet until 08:00 the same day.
    assert quiet_until(datetime(2026, 3, 3, 5, 0, tzinfo=timezone.utc), berlin, start, end) == datetime(
        2026, 3, 3, 7, 0, tzinfo=timezone.utc)
    assert quiet_until(datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc), berlin, start, end) is None
    # In Tokyo the same UTC noon is 21:00: quiet.
    assert quiet_until(datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc), ZoneInfo("Asia/Tokyo"), start, end) == (
        datetime(2026, 3, 3, 23, 0, tzinfo=timezone.utc))
    assert quiet_until(T0, berlin, None, end) is None and quiet_until(T0, berlin, start, start) is None


def test_quiet_hours_end_by_the_wall_clock_across_a_dst_change():
    # Night of 28→29 March 2026, Berlin goes to summer time: 08:00 local is 06:00 UTC.
    end = quiet_until(datetime(2026, 3, 28, 23, 0, tzinfo=timezone.utc), ZoneInfo("Europe/Berlin"),
                      time(22, 0), time(8, 0))
    assert end == datetime(2026, 3, 29, 6, 0, tzinfo=timezone.utc)


def test_budget_defers_until_the_oldest_contact_leaves_the_window():
    sent = [T0 - timedelta(days=6), T0 - timedelta(days=2), T0 - timedelta(hours=1)]
    assert budget_until(sent[:2], 3, T0) is None
    assert budget_until(sent, 3, T0) == T0 + timedelta(days=1)  # the 6-days-old one leaves in a day
    assert budget_until(sent, 2, T0) == T0 + timedelta(days=5)  # two must leave: the second oldest
    assert budget_until([T0 - timedelta(days=8)] * 5, 1, T0) is None  # older than 7 days: not counted
    assert budget_until([], 0, T0) == T0 + timedelta(days=7)
    assert budget_until(sent, None, T0) is None


def test_links_verify_and_expire_and_refuse_what_we_did_not_sign():
    target = UnsubscribeTarget("s1", "s1:c1", c.address_hash("ana@example.com"))
    links = LinkSigner("k" * 32, max_age_s=3600, base_url="https://n.example/")
    url = links.unsubscribe_url(target)
    assert url.startswith("https://n.example/u/") and "ana" not in url
    token = url.rsplit("/", 1)[1]
    assert links.verify(token) == target
    with pytest.raises(BadLink):
        links.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    with pytest.raises(BadLink):
        LinkSigner("other-key" * 4, max_age_s=3600, base_url="x").verify(token)
    old = URLSafeTimedSerializer("k" * 32, salt=SALT)
    expired = LinkSigner("k" * 32, max_age_s=-1, base_url="x")
    with pytest.raises(ExpiredLink):
        expired.verify(old.dumps(["s1", "s1:c1", "h"]))
    assert derived_secret("tok") != "tok" and derived_secret("tok") == derived_secret("tok")


def test_one_click_headers_and_footer():
    assert one_click_headers("https://n.example/u/t") == {
        "List-Unsubscribe": "<https://n.example/u/t>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    text, html = with_footer("Hello\n", "<html><body><p>Hi</p></body></html>", "https://n.example/u/t?a&b", "de_DE")
    assert text.endswith("Abmelden: https://n.example/u/t?a&b\n")
    assert html.endswith('<a href="https://n.example/u/t?a&amp;b">Abmelden</a></p></body></html>')


def test_a_digest_places_every_part_in_the_first_ones_document():
    doc = '<html><head><style>p{color:red}</style></head><body style="x">{}</body></html>'
    parts = [Part("m1", "Your order #1 has shipped", "Shipped.", doc.replace("{}", "<p>Shipped</p>")),
             Part("m2", "You earned 50 points", "Points.", doc.replace("{}", "<p>Points</p>")),
             Part("m3", "You reached Gold", "Gold.", "<p>Gold</p>")]
    d = build_digest(parts, "en")
    assert d.subject == "Your order #1 has shipped (+2 more)" and d.message_ids == ("m1", "m2", "m3")
    assert d.text.index("Shipped.") < d.text.index("Points.") < d.text.index("Gold.")
    assert d.html.startswith('<html><head><style>p{color:red}</style></head><body style="x"><p>Shipped</p>')
    assert d.html.count("<body") == 1 and "<p>Points</p>" in d.html and "<p>Gold</p>" in d.html
    assert build_digest(parts[:1]).subject == "Your order #1 has shipped"
    assert build_digest(parts, "de").subject.endswith("(+2 weitere)")


@pytest.mark.parametrize("name", ["Europe", "a" * 300, "../etc/passwd", "Europe/Berlin\x00", ""])
def test_a_name_that_is_no_zone_is_none_never_an_error(name):
    from services.notifier.domain.quiet_hours import zone
    from services.notifier.domain.store_settings import StoreSettings

    assert zone(name) is None
    with pytest.raises(ValueError):
        StoreSettings(timezone=name)
