"""A template that fails to render fails its own message, with the reason, and is counted
(notifier_template_failures_total, alertable); the event is handled and every other message
still goes: nothing is retried or dead-lettered for it."""
from __future__ import annotations

from jinja2 import UndefinedError
from prometheus_client import REGISTRY

from services.notifier.domain.flows import FLOWS
from services.notifier.handlers import HANDLERS
from services.notifier.recording import record_flow
from shared.testing import Clock
from tests.support.fakes.notifier import MemorySettings, memory_unit_of_work
from tests.unit.notifier.orders import order_data, order_event


def failures(flow: str) -> float:
    return REGISTRY.get_sample_value("notifier_template_failures_total", {"flow": flow}) or 0.0


async def test_a_broken_template_fails_its_message_and_blocks_nothing():
    tx = memory_unit_of_work(settings=MemorySettings(), now=Clock().now)
    event = order_event("order.placed", order_data("s1", 1, "processing"))

    def broken(store):
        raise UndefinedError("'order' has no attribute 'nmae'")

    before = failures("order_thanks")
    assert await record_flow(tx, FLOWS["order_thanks"], cause=event, store_id="s1", customer_key="s1:c1",
                             message_id="m-broken", draft=broken) is None
    row = tx.messages.rows["m-broken"]
    assert (row.status, row.last_error) == ("failed", "template: UndefinedError")
    assert failures("order_thanks") == before + 1
    assert [m.message_id for m in await tx.messages.claim_due(10)] == []  # never sent, never first in line

    await HANDLERS[event.type](event, tx)  # the event's own messages are recorded as ever
    pending = [r for r in tx.messages.rows.values() if r.status == "pending"]
    assert pending and all(r.subject and "@" in r.to_address for r in pending)
