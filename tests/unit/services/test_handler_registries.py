"""Convention: every event type a service subscribes to and acts on has exactly one handler, and
no handler is registered for a type that isn't on the service's topics."""
import pytest

from services.ingest import handlers as ingest_handlers
from services.loyalty import bootstrap as loyalty_boot, handlers as loyalty_handlers
from services.notifier import bootstrap as notifier_boot, handlers as notifier_handlers
from services.reviews import bootstrap as reviews_boot, handlers as reviews_handlers
from shared.events.registry import BY_NAME


@pytest.mark.parametrize("boot,handlers", [
    (notifier_boot, notifier_handlers), (loyalty_boot, loyalty_handlers), (reviews_boot, reviews_handlers)])
def test_handlers_cover_only_subscribed_types(boot, handlers):
    subscribed = {t for name in boot.TOPICS for t in BY_NAME[name].event_types}
    assert handlers.HANDLERS, "a consumer with no handlers"
    assert set(handlers.HANDLERS) <= subscribed
    for event_type, fn in handlers.HANDLERS.items():
        assert fn.__name__ == "on_" + event_type.replace(".", "_"), (event_type, fn.__name__)


def test_ingest_handles_every_woocommerce_resource_topic():
    expected = {f"{r}.{e}" for r in ("order", "customer", "product") for e in ("created", "updated", "deleted")}
    assert expected <= set(ingest_handlers.HANDLERS)
    assert "coupon.created" not in ingest_handlers.HANDLERS  # acknowledged and stored, but not normalised
