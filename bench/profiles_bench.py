"""How fast is the faust profile worker, compared with a plain aiokafka loop doing the same work?

    .venv/bin/python -m bench.profiles_bench                      # 20,000 order events, 5,000 customers
    .venv/bin/python -m bench.profiles_bench --events 100000 --restart

In one run, on topics of the run's own (created, deleted after), the same order events:
  (a) plain   aiokafka consume → the same handlers (domain/profile.py) over a dict → produce
              profile.updated: what the work costs without faust (no tables, no changelog)
  (b) faust   the real worker (`python -m services.profiles.entrypoints.worker`, its own app id):
              start → every event applied and its profile published
  (c) restart (--restart) after (b): kill -9 of the worker with the tables full, start again,
              time until it is ready and has published the profiles of a fresh burst
Rates are events/s from the first event read to the last profile published (start-up excluded:
it is reported separately). Results go to bench/results/profiles-<time>.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.profiles import handlers
from services.profiles.adapters.tables import TableCatalogue, TableProfiles
from services.profiles.adapters.unit_of_work import ProfilesUnitOfWork
from services.profiles.domain.segments import Thresholds
from shared.events.envelope import Envelope, Event
from shared.events.registry import PARTITIONS, model_for
from tests.support.profile_worker import OwnTopics, ProfileWorker, delete_app_topics

RESULTS = Path(__file__).parent / "results"
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def make_events(n: int, customers: int, store: str, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """n order events (placed, then paid/completed/refunded for some) for `customers` customers."""
    rnd = random.Random(seed)
    out: list[tuple[bytes, bytes]] = []
    order_id = 0
    while len(out) < n:
        order_id += 1
        key = f"{store}:c{rnd.randrange(customers)}"
        total = f"{rnd.randrange(100, 20000) / 100:.2f}"
        data = {"store_id": store, "order_id": order_id, "order_number": str(order_id), "status": "processing",
                "customer": {"key": key, "id": 1}, "currency": "EUR", "total": total,
                "subtotal_after_discounts": total, "tax": "0", "shipping": "0", "discount": "0",
                "line_items": [{"line_id": 1, "product_id": rnd.randrange(50), "name": "x", "quantity": 1,
                                "total": total}], "dates": {"created": T0.isoformat(), "paid": T0.isoformat()}}
        for step, (etype, status) in enumerate([("order.placed", "processing"), ("order.completed", "completed")]):
            env = Envelope(id=f"{store}-{order_id}-{step}", source=f"/stores/{store}", type=etype,
                           subject=f"order/{order_id}", time=T0 + timedelta(seconds=order_id + step),
                           data={**data, "status": status})
            out.append((key.encode(), env.to_bytes()))
    return out[:n]


async def produce(bootstrap: str, topic: str, events: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in events]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def count_until(bootstrap: str, topic: str, expect: int, timeout: float) -> tuple[float, float]:
    """(time of the first record, time of the `expect`-th record) as read on `topic`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    seen, first = 0, None
    deadline = time.monotonic() + timeout
    try:
        while seen < expect and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                seen += len(records)
                first = first or time.monotonic()
    finally:
        await consumer.stop()
    if seen < expect:
        raise TimeoutError(f"{topic}: {seen} of {expect} records")
    return first, time.monotonic()


async def plain_loop(bootstrap: str, source: str, sink: str, n: int) -> dict:
    """The baseline: consume, apply the same handlers to a dict, produce profile.updated."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_poll_records=2000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await consumer.start()
    await producer.start()
    tps = [TopicPartition(source, p) for p in range(PARTITIONS)]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    profiles: dict = {}
    catalogue = TableCatalogue({})
    done, started, cpu0 = 0, None, time.process_time()
    pending = []
    try:
        while done < n:
            for records in (await consumer.getmany(timeout_ms=200, max_records=2000)).values():
                started = started or time.monotonic()
                for r in records:
                    env = Envelope.from_bytes(r.value)
                    event = Event.parse(env, model_for(env.type, env.version))
                    tx = ProfilesUnitOfWork(profiles=TableProfiles(profiles), catalogue=catalogue,
                                            thresholds=lambda s: Thresholds())
                    await handlers.HANDLERS[env.type](event, tx)
                    for key, out in tx.outbox.records:
                        pending.append(await producer.send(sink, out.envelope.to_bytes(), key=key.encode()))
                    done += 1
        await asyncio.gather(*pending)
        elapsed = time.monotonic() - started
    finally:
        await consumer.stop()
        await producer.stop()
    return {"events": n, "seconds": round(elapsed, 2), "events_per_s": round(n / elapsed),
            "cpu_ms_per_event": round((time.process_time() - cpu0) * 1000 / n, 3)}


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--customers", type=int, default=5000)
    ap.add_argument("--restart", action="store_true", help="also time a kill -9 and restart with full tables")
    ap.add_argument("--bootstrap", default=os.environ.get("AFTERCART_STACK_BOOTSTRAP", "127.0.0.1:19092"))
    args = ap.parse_args()
    run = f"pb{int(time.time())}"
    topics, plain_topics = OwnTopics(run), OwnTopics(run + "-plain")
    await topics.create(args.bootstrap)
    await plain_topics.create(args.bootstrap)
    results: dict = {"events": args.events, "customers": args.customers, "cpus": os.cpu_count(),
                     "load_before": os.getloadavg()}
    workdir = Path(f"/tmp/{run}")
    try:
        events = make_events(args.events, args.customers, run)
        await produce(args.bootstrap, plain_topics.names["orders.v1"], events)
        results["plain"] = await plain_loop(args.bootstrap, plain_topics.names["orders.v1"],
                                            plain_topics.names["profiles.v1"], args.events)
        print("plain", results["plain"], flush=True)

        await produce(args.bootstrap, topics.names["orders.v1"], events)
        t = time.monotonic()
        worker = await ProfileWorker(args.bootstrap, f"{run}-app", workdir, **topics.env()).start()
        ready = time.monotonic() - t
        first, last = await count_until(args.bootstrap, topics.names["profiles.v1"], args.events, 900)
        cpu = cpu_of(worker.proc.pid)
        results["faust"] = {"events": args.events, "startup_s": round(ready, 2), "seconds": round(last - first, 2),
                            "events_per_s": round(args.events / (last - first)),
                            "cpu_ms_per_event_incl_startup": round(cpu * 1000 / args.events, 3)}
        results["ratio_faust_to_plain"] = round(results["faust"]["events_per_s"] / results["plain"]["events_per_s"], 2)
        print("faust", results["faust"], "ratio", results["ratio_faust_to_plain"], flush=True)

        if args.restart:
            worker.kill()
            await worker.proc.wait()
            burst = make_events(1000, 1000, run + "x", seed=11)
            t = time.monotonic()
            again = await ProfileWorker(args.bootstrap, f"{run}-app", workdir, **topics.env()).start(600)
            ready = time.monotonic() - t
            await produce(args.bootstrap, topics.names["orders.v1"], burst)
            _, last = await count_until(args.bootstrap, topics.names["profiles.v1"], args.events + len(burst), 600)
            results["restart"] = {"tables_events": args.events, "ready_after_kill_s": round(ready, 2),
                                  "caught_up_after_kill_s": round(last - t, 2)}
            print("restart", results["restart"], flush=True)
            await again.stop()
        else:
            await worker.stop()
    finally:
        await topics.delete(args.bootstrap)
        await plain_topics.delete(args.bootstrap)
        await delete_app_topics(args.bootstrap, f"{run}-app")
    results["load_after"] = os.getloadavg()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"profiles-{run}.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
