"""What the branded order email costs to render, against baselines measured in the same run (CPU
time of this process, so other load on the machine counts little):

  - baseline: the same message rendered into the same templates with CSS inlining switched off
    (the templates and the context as shipped, `inline_css` the identity);
  - the order context alone (amounts, dates, the order table and addresses; no template).

Rounds alternate between the variants so a slower stretch of the machine hits them alike.

    .venv/bin/python bench/email_render_bench.py [--messages 300] [--rounds 5]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from babel import Locale  # noqa: E402

from services.ingest.domain import StoreContext, derive_order_events  # noqa: E402
from services.notifier.domain import messages  # noqa: E402
from services.notifier.domain.messages import _context, compose  # noqa: E402
from services.notifier.domain.store_settings import StoreSettings  # noqa: E402
from shared.events.orders import OrderEvent  # noqa: E402
from tests.support.ingest_payloads import payload  # noqa: E402

STORE = StoreSettings(store_name="Kaffee & Co", logo_url="https://cdn.kaffee.example/logo.png", brand_colour="#7a3e1d",
                      footer_address="Kaffee & Co GmbH\nHauptstraße 1\n10115 Berlin", support_email="help@kaffee.example")


def _order() -> OrderEvent:
    data = derive_order_events(StoreContext(store_id="s1"), None, payload("order.v3.docs.json"),
                               "order.created").events[0].envelope.data
    return OrderEvent.model_validate(data)


def _cpu_ms_per(fn, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    order, locale = _order(), Locale.parse("en")
    inline = messages.inline_css

    def shipped() -> None:
        compose("order.placed", order, store=STORE)

    def no_inlining() -> None:
        messages.inline_css = lambda html: html
        try:
            compose("order.placed", order, store=STORE)
        finally:
            messages.inline_css = inline

    def context_only() -> None:
        _context(order, locale, STORE)

    for fn in (shipped, no_inlining, context_only):  # warm: templates compiled, data loaded
        fn()
    totals = {"shipped": 0.0, "no_inlining": 0.0, "context_only": 0.0}
    for _ in range(args.rounds):
        for name, fn in (("shipped", shipped), ("no_inlining", no_inlining), ("context_only", context_only)):
            totals[name] += _cpu_ms_per(fn, args.messages) / args.rounds
    size = len(compose("order.placed", order, store=STORE).html)
    print(f"order email, {args.messages} x {args.rounds} rounds, CPU ms per message:")
    print(f"  rendered as shipped (CSS inlined): {totals['shipped']:.2f} ms  ({size} bytes of HTML)")
    print(f"  baseline, no CSS inlining:         {totals['no_inlining']:.2f} ms  "
          f"-> inlining costs x{totals['shipped'] / totals['no_inlining']:.2f}")
    print(f"  the order context alone:           {totals['context_only']:.2f} ms  "
          f"({totals['context_only'] / totals['shipped']:.0%} of the whole)")


if __name__ == "__main__":
    main()
