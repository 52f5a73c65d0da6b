"""StoreSettings / FlowSettings validation and the settings repositories' defaults (in memory)."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.notifier.domain.flows import FLOWS, flow_defaults, still_fits
from services.notifier.domain.store_settings import FlowDefaults, FlowSettings, StoreSettings
from tests.support.fakes.notifier import MemorySettings


def test_an_unknown_store_gets_the_service_defaults():
    s = StoreSettings.defaults(from_address="Shop <shop@example.com>", locale="de")
    assert s.from_address == "Shop <shop@example.com>" and s.locale == "de" and s.timezone == "UTC"
    assert s.digest_window_s == 0 and s.webhook_url is None


@pytest.mark.parametrize("changes", [
    {"locale": "dee"}, {"timezone": "Mars/Base"}, {"returns_url": "javascript:alert(1)"},
    {"support_email": "nope"}, {"from_address": "a@b.c\r\nBcc: x@y.z"}, {"brand_colour": "red"},
    {"webhook_url": "ftp://example.com/hook"}, {"webhook_url": "http://127.0.0.1:9000/hook"},
    {"webhook_url": "https://10.1.2.3/hook"}, {"webhook_secret": "plain"}, {"no_such_field": 1},
    {"marketing_per_7_days": -1},
])
def test_bad_store_settings_are_refused(changes):
    with pytest.raises(ValidationError):
        StoreSettings.defaults().merged(changes, development=False)


def test_a_private_webhook_is_accepted_in_development_only():
    s = StoreSettings.defaults().merged({"webhook_url": "http://127.0.0.1:9000/hook"}, development=True)
    assert s.webhook_url == "http://127.0.0.1:9000/hook"


async def test_memory_settings_keep_what_a_store_set_over_the_defaults():
    repo = MemorySettings(StoreSettings.defaults(locale="de"))
    await repo.put_store("s1", {"store_name": "Kaffee & Co", "timezone": "Europe/Berlin"})
    s1, s2 = await repo.store("s1"), await repo.store("s2")
    assert (s1.store_name, s1.timezone, s1.locale) == ("Kaffee & Co", "Europe/Berlin", "de")
    assert s2.store_name is None
    assert await repo.flow("s1", "points_earned") == FlowSettings(marketing=True)
    await repo.put_flow("s1", "order_completed", FlowSettings(delay_s=3600))
    assert (await repo.flows("s1"))["order_completed"].delay_s == 3600
    assert (await repo.flows("s2"))["order_completed"].delay_s == 0


class _Msg:
    def __init__(self, order_id, statuses):
        self.order_id, self.order_statuses = order_id, statuses


def test_still_fits_names_the_reason_an_order_message_no_longer_fits():
    thanks = FLOWS["order_thanks"].order_statuses
    assert still_fits(_Msg(7, thanks), "processing") is None
    assert still_fits(_Msg(7, thanks), "cancelled") == "order is now cancelled"
    assert still_fits(_Msg(7, thanks), None) is None  # nothing known: the event that recorded it stands
    assert still_fits(_Msg(None, None), "cancelled") is None  # not about an order
    assert still_fits(_Msg(7, None), "refunded") is None  # any status (a refund's own message)


def test_every_flow_is_marketing_or_transactional_with_a_channel():
    assert {f.channel for f in FLOWS.values()} == {"email"}
    assert FLOWS["review_request"].marketing and not FLOWS["order_failed"].marketing


def test_flow_defaults_from_the_settings_change_what_a_store_that_set_nothing_gets(monkeypatch):
    from services.notifier.bootstrap import message_config
    from services.notifier.config import NotifierSettings

    monkeypatch.setenv("AFTERCART_NOTIFIER_FLOW_DEFAULTS", '{"order_completed": {"delay_s": 3600}, '
                                                           '"review_request": {"channel": "webhook"}}')
    config = message_config(NotifierSettings(environment="development"))
    assert flow_defaults("order_completed", config.flow_defaults) == FlowSettings(delay_s=3600)
    assert flow_defaults("review_request", config.flow_defaults) == FlowSettings(channel="webhook", marketing=True)
    assert flow_defaults("order_thanks", config.flow_defaults) == FlowSettings()


@pytest.mark.parametrize("value", ['{"no_such_flow": {"delay_s": 1}}', '{"order_thanks": {"delay_s": -1}}',
                                   '{"order_thanks": {"channel": "fax"}}'])
def test_bad_flow_defaults_stop_the_start(monkeypatch, value):
    from services.notifier.config import NotifierSettings

    monkeypatch.setenv("AFTERCART_NOTIFIER_FLOW_DEFAULTS", value)
    with pytest.raises(ValidationError):
        NotifierSettings(environment="development")


async def test_memory_settings_use_the_flow_defaults_until_a_store_sets_its_own():
    repo = MemorySettings(flow_defaults={"order_completed": FlowDefaults(delay_s=600)})
    assert (await repo.flow("s1", "order_completed")).delay_s == 600
    await repo.put_flow("s1", "order_completed", FlowSettings(delay_s=0))
    assert (await repo.flow("s1", "order_completed")).delay_s == 0
    assert (await repo.flows("s2"))["order_completed"].delay_s == 600


def test_a_stored_field_that_no_longer_validates_falls_back_to_its_default():
    defaults = StoreSettings.defaults(locale="de")
    s, dropped = defaults.stored({"store_name": "Kaffee", "timezone": "Mars/Base", "webhook_secret": "plain",
                                  "renamed_field": 1})
    assert (s.store_name, s.timezone, s.webhook_secret, s.locale) == ("Kaffee", "UTC", None, "de")
    assert sorted(dropped) == ["renamed_field", "timezone", "webhook_secret"]
    assert defaults.stored({"store_name": "Kaffee"}) == (defaults.model_copy(update={"store_name": "Kaffee"}), [])


async def test_memory_settings_survive_a_stored_value_gone_bad():
    repo = MemorySettings()
    repo.stores["s1"] = {"support_email": "help@kaffee.example", "returns_url": "javascript:alert(1)"}
    s = await repo.store("s1")
    assert (s.support_email, s.returns_url) == ("help@kaffee.example", None)
