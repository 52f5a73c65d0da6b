"""How fast does loyalty accrue order events with exact balances, compared with what?

Runs loyalty's real handlers (services/loyalty/handlers.py) with the real unit of work on the local
PostgreSQL (a schema of its own, dropped afterwards), the processed-event marker written in the
same transaction as the effects — the consumer loop's exactly-once rule — in two shapes, on the
same events in the same run:

- **baseline**: one transaction per event (what the shared consumer loop does today);
- **batched**: `--batch` events per transaction, each with its own marker (still exactly-once: a
  batch commits its markers and effects together, or none of them).

After each shape every customer's balance is checked against the in-memory reference (the same
events through tests/support/fakes): a figure only counts if the balances are exact. Kafka is not
in the loop (it is the same for both shapes): this measures loyalty's own work per event.

    .venv/bin/python -m bench.loyalty_accrual                  # 3,000 events, batches of 100
    .venv/bin/python -m bench.loyalty_accrual --events 6000 --batch 200

Results: a table on stdout and JSON in bench/results/loyalty_accrual.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path

from services.loyalty import handlers
from services.loyalty.adapters.ledger import PgLedger
from services.loyalty.adapters.unit_of_work import LoyaltyUnitOfWork
from services.loyalty.bootstrap import MIGRATIONS
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.db.processed import PgProcessedMarkers
from tests.support.fakes.loyalty import memory_tx
from tests.support.pg_schema import isolated_schema
from tests.unit.loyalty.order_events import later, line, order_event, refund

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def story(store: str, events: int) -> list:
    """paid, partial refund (a line), completed — per order, customers shared by several orders."""
    out, n = [], 0
    while len(out) < events:
        n += 1
        key = f"{store}:c{n % 97}"
        common = dict(customer_key=key, line_items=[line(1, f"{10 + n % 50}.00"), line(2, "19.99")], tax="3.00")
        out += [order_event(store, "order.paid", n, **common),
                order_event(store, "order.refunded", n, time=later(1), refund=refund(n, "5.00", lines=[(1, "5.00")]),
                            **common),
                order_event(store, "order.completed", n, time=later(2), **common)]
    return out[:events]


async def reference(events: list) -> dict[str, dict]:
    tx = memory_tx()
    for e in events:
        await handlers.HANDLERS[e.type](e, tx)
    return {k: await tx.ledger.balance(k) for k in {e.data.customer.key for e in events}}


async def run(pool, events: list, batch: int, group: str) -> float:
    started = time.perf_counter()
    for start in range(0, len(events), batch):
        async with pool.acquire() as conn:
            async with conn.transaction():
                markers, tx = PgProcessedMarkers(conn), LoyaltyUnitOfWork(conn)
                for e in events[start:start + batch]:
                    if await markers.mark(group, e.id, e.type):
                        await handlers.HANDLERS[e.type](e, tx)
    return time.perf_counter() - started


async def main(args) -> None:
    from deploy.local.stack.config import StackSettings

    dsn = StackSettings().service_dsn("loyalty")
    results = {}
    async with isolated_schema(dsn, f"bench_{uuid.uuid4().hex[:8]}") as scoped:
        pool = await create_pool(scoped, 1, 4)
        await apply_migrations(pool, MIGRATIONS, "loyalty")
        try:
            for shape, batch in (("baseline", 1), ("batched", args.batch)):
                store = f"b{uuid.uuid4().hex[:8]}"
                events = story(store, args.events)
                expected = await reference(events)
                seconds = await run(pool, events, batch, f"bench-{store}")
                ledger = PgLedger(pool)
                exact = all([await ledger.balance(k) == v for k, v in expected.items()])
                results[shape] = {"events": len(events), "batch": batch, "seconds": round(seconds, 3),
                                  "events_per_s": round(len(events) / seconds, 1), "exact_balances": exact}
        finally:
            await pool.close()
    results["ratio_batched_vs_baseline"] = round(results["batched"]["events_per_s"]
                                                 / results["baseline"]["events_per_s"], 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "loyalty_accrual.json").write_text(json.dumps(results, indent=2))
    for shape in ("baseline", "batched"):
        r = results[shape]
        print(f"{shape:9} batch {r['batch']:>4}  {r['events']} events  {r['events_per_s']:>8} events/s"
              f"  exact balances: {r['exact_balances']}")
    print(f"batched / baseline: {results['ratio_batched_vs_baseline']}×")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=3000)
    p.add_argument("--batch", type=int, default=100)
    asyncio.run(main(p.parse_args()))
