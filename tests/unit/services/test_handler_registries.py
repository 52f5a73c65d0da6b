"""Convention 2: every event type a consumer subscribes to is either handled — by exactly one
`on_<type>` in HANDLERS — or named in its IGNORED list on purpose; nothing is handled that isn't
subscribed; and ingest handles every WooCommerce resource topic."""
import inspect

import pytest

from services.loyalty import bootstrap as loyalty_boot, handlers as loyalty_handlers
from services.notifier import bootstrap as notifier_boot, handlers as notifier_handlers
from services.profiles import bootstrap as profiles_boot, handlers as profiles_handlers
from services.reviews import bootstrap as reviews_boot, handlers as reviews_handlers
from shared.events.registry import types_of

CONSUMERS = [(notifier_boot, notifier_handlers), (loyalty_boot, loyalty_handlers), (reviews_boot, reviews_handlers),
             (profiles_boot, profiles_handlers)]
NAMES = ["notifier", "loyalty", "reviews", "profiles"]


@pytest.mark.parametrize("boot,handlers", CONSUMERS, ids=NAMES)
def test_every_subscribed_type_is_handled_or_ignored_on_purpose(boot, handlers):
    subscribed = types_of(*boot.TOPICS)
    handled, ignored = set(handlers.HANDLERS), set(handlers.IGNORED)
    assert handled, "a consumer with no handlers"
    assert handled & ignored == set(), "both handled and ignored"
    assert sorted(subscribed - handled - ignored) == [], "subscribed but neither handled nor ignored"
    assert sorted((handled | ignored) - subscribed) == [], "handled or ignored but not subscribed"


@pytest.mark.parametrize("boot,handlers", CONSUMERS, ids=NAMES)
def test_one_handler_shape(boot, handlers):
    for event_type, fn in handlers.HANDLERS.items():
        assert fn.__name__ == "on_" + event_type.replace(".", "_"), (event_type, fn.__name__)
        assert inspect.iscoroutinefunction(fn)
        assert list(inspect.signature(fn).parameters) == ["event", "tx"], (event_type, fn.__name__)


def test_ingest_handles_every_woocommerce_resource_topic():
    from services.ingest import handlers as ingest_handlers

    expected = {f"{r}.{e}" for r in ("order", "customer", "product") for e in ("created", "updated", "deleted")}
    assert expected <= set(ingest_handlers.HANDLERS)
    assert "coupon.created" not in ingest_handlers.HANDLERS  # acknowledged and stored, but not normalised
