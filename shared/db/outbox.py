"""Transactional outbox: `write` events in the caller's transaction; `OutboxRelay` publishes them.

Several instances may run the relay: a transaction-scoped advisory lock lets one of them publish
at a time, in seq order, so events about one key reach Kafka in the order they were written.
If the relay dies after Kafka acked but before marking rows published, those rows go out again:
consumers drop the repeat by event id (processed_events). The idempotent producer removes
duplicates from its own retries.

Parking: a row Kafka refuses for good never blocks the others. `PERMANENT` errors — over the
producer's request limit (raised as the row is handed to the producer) or the broker's or topic's
limit, a record the broker finds corrupt or badly timestamped, an invalid topic name — park the row
in `outbox_parked` (shared/db/sql/004) with its reason, and the relay goes on with the rows behind
it, from every store. Anything else (broker away, leader elections, timeouts) parks nothing: the
batch is retried with backoff, as ever. A refusal from the broker leaves the idempotent producer's
sequence for that partition with a gap, so every later record there fails too (out of order
sequence): the relay then publishes the failed rows one at a time on a new producer (`connect`),
parks only the one the broker refuses alone, and keeps that producer.

Per-key order: consumers need the events of one subject — one order, customer or product — in
order (loyalty moves an order's points paid → completed → refunded), while a customer's other
orders don't depend on each other. So the later rows with the same key *and* subject as a parked
row, written before or after it, are parked as "held" behind it and go out in order when it is
replayed (after the fix: a raised limit) or discarded; rows of the same key about another subject
go on. Nothing of one partition overtakes a broker-refused row either: the sequence gap fails
everything after it on that partition, and the one-at-a-time pass goes in seq order.

`parked()`, `replay_parked()`, `discard_parked()` are the operator's side (ingest's admin API);
`<service>_outbox_parked_rows` (gauge) and `<service>_outbox_parked_total` (counter) what alerts watch;
`OutboxRelay.health()` what /readyz shows.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (CorruptRecordException, InvalidTimestampError, InvalidTopicError,
                             MessageSizeTooLargeError, RecordListTooLargeError)

from shared.events.envelope import Outgoing
from shared.kafka.producer import headers_for
from shared.logging import get_logger
from shared.metrics import relay_metrics

log = get_logger(__name__)
_RELAY_LOCK = 727_002
# After a wake-up, what the relay waits for the rest of a burst to be written, so that it goes to
# Kafka in one batch rather than one transaction per commit.
_GATHER_S = 0.01
# Kafka's answers that mean "never this record": publishing it again can only fail the same way.
PERMANENT = (MessageSizeTooLargeError, RecordListTooLargeError, CorruptRecordException, InvalidTimestampError,
             InvalidTopicError)
HELD = "held"
# /readyz says publishing is failing once it has failed this long without a success.
_FAILING_AFTER_S = 10.0


# The columns an event is written to, in the order `columns()` builds them, with their types.
COLUMNS = (("event_id", "text"), ("event_type", "text"), ("topic", "text"), ("key", "text"), ("source", "text"),
           ("subject", "text"), ("payload", "bytea"))


def insert_from_arrays(first: int) -> str:
    """The INSERT of `columns(events)` given as parameters $first..$first+6 (a repeated event id is
    ignored), without RETURNING: also a CTE of a larger statement (ingest's batch write)."""
    names = ", ".join(name for name, _ in COLUMNS)
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(COLUMNS))
    return f"INSERT INTO outbox ({names}) SELECT * FROM unnest({arrays}) ON CONFLICT (event_id) DO NOTHING"


# Parameters $1..$7: the columns of `columns(events)`.
INSERT = insert_from_arrays(1) + " RETURNING seq"


def columns(events: list[Outgoing], payloads: list[bytes] | None = None) -> list[list]:
    """The column arrays of COLUMNS (what `INSERT` takes), one element per event; `payloads`: the
    envelopes already serialized (ingest's pipeline checks them), else serialized here."""
    payloads = payloads if payloads is not None else [o.envelope.to_bytes() for o in events]
    rows = [(o.envelope.id, o.envelope.type, o.topic, o.key, o.envelope.source, o.envelope.subject, payload)
            for o, payload in zip(events, payloads)]
    return list(map(list, zip(*rows)))


async def write(conn: asyncpg.Connection, events: list[Outgoing]) -> int:
    """Insert events into the outbox; a repeated event id is ignored. Returns rows inserted."""
    if not events:
        return 0
    return len(await conn.fetch(INSERT, *columns(events)))


class PgOutbox:
    """The outbox as a repository bound to one connection (a unit of work's `tx.outbox`)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def write(self, events: list[Outgoing]) -> int:
        return await write(self.conn, events)


_WAITING = "o.published_at IS NULL AND NOT EXISTS (SELECT 1 FROM outbox_parked x WHERE x.seq = o.seq)"


async def stats(conn: asyncpg.Connection) -> dict:
    """{"depth": rows waiting to be published, "oldest_age_seconds": age of the oldest of them,
    "parked": rows parked and not discarded}."""
    row = await conn.fetchrow(
        f"SELECT count(*) AS depth, min(o.created_at) AS oldest,"
        f" (SELECT count(*) FROM outbox_parked WHERE discarded_at IS NULL) AS parked FROM outbox o WHERE {_WAITING}")
    oldest = row["oldest"]
    age = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
    return {"depth": row["depth"], "oldest_age_seconds": round(age, 3), "parked": row["parked"]}


# --- Parked rows, the operator's side ---------------------------------------------------------------


@dataclass(frozen=True)
class ParkedRow:
    seq: int
    event_id: str
    event_type: str
    topic: str
    key: str
    subject: str
    error_type: str  # the Kafka error's class, or "held"
    reason: str
    behind: int | None  # held: the parked row it waits behind
    bytes: int  # size of the event as it would be published
    created_at: datetime
    parked_at: datetime
    discarded_at: datetime | None


@dataclass(frozen=True)
class Released:
    """What a replay or a discard did: `released` are the rows back in the queue, in seq order."""
    seq: int
    released: list[int]


class NotParked(LookupError):
    """No such parked row (or it was discarded already)."""


class HeldBehind(Exception):
    """The row waits behind another: replay or discard that one (`head`)."""

    def __init__(self, seq: int, head: int) -> None:
        super().__init__(f"outbox row {seq} waits behind parked row {head}: replay or discard {head}")
        self.head = head


async def parked(conn: asyncpg.Connection, limit: int = 100, discarded: bool = False) -> list[ParkedRow]:
    """Parked rows, oldest first: those waiting for a decision, or (`discarded`) those discarded."""
    rows = await conn.fetch(
        "SELECT p.seq, o.event_id, o.event_type, o.topic, p.key, p.subject, p.error_type, p.reason, p.behind,"
        " octet_length(o.payload) AS bytes, o.created_at, p.parked_at, p.discarded_at"
        " FROM outbox_parked p JOIN outbox o USING (seq)"
        " WHERE (p.discarded_at IS NOT NULL) = $1 ORDER BY p.seq LIMIT $2", discarded, limit)
    return [ParkedRow(**dict(r)) for r in rows]


async def replay_parked(conn: asyncpg.Connection, seq: int) -> Released:
    """Put a parked row back in the queue, with the rows held behind it (they follow it in seq
    order). Raises NotParked, HeldBehind."""
    return await _release(conn, seq, discard=False)


async def discard_parked(conn: asyncpg.Connection, seq: int) -> Released:
    """Never publish a parked row (it stays listed as discarded); the rows held behind it go back in
    the queue. Raises NotParked, HeldBehind."""
    return await _release(conn, seq, discard=True)


async def _release(conn: asyncpg.Connection, seq: int, *, discard: bool) -> Released:
    async with conn.transaction():
        # The relay's lock: no batch may park a row behind this one while it is being released.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _RELAY_LOCK)
        row = await conn.fetchrow("SELECT behind FROM outbox_parked WHERE seq = $1 AND discarded_at IS NULL", seq)
        if row is None:
            raise NotParked(f"no parked outbox row {seq}")
        if row["behind"] is not None:
            raise HeldBehind(seq, row["behind"])
        if discard:
            await conn.execute("UPDATE outbox_parked SET discarded_at = now() WHERE seq = $1", seq)
            seqs = await conn.fetch("DELETE FROM outbox_parked WHERE behind = $1 RETURNING seq", seq)
        else:
            seqs = await conn.fetch("DELETE FROM outbox_parked WHERE seq = $1 OR behind = $1 RETURNING seq", seq)
    released = sorted(r["seq"] for r in seqs)
    log.warning("outbox_parked_discarded" if discard else "outbox_parked_replayed", seq=seq, released=len(released))
    return Released(seq=seq, released=released)


# --- The relay ------------------------------------------------------------------------------------

# The rows to publish next, with the parked row each must wait behind (same key and subject), if any.
# The per-row lookup runs only when some row is parked at all (an InitPlan, evaluated once).
_NEXT = (
    "SELECT o.seq, o.event_type, o.event_id, o.topic, o.key, o.subject, o.payload, o.created_at,"
    " CASE WHEN (SELECT EXISTS (SELECT 1 FROM outbox_parked WHERE behind IS NULL AND discarded_at IS NULL))"
    " THEN (SELECT min(p.seq) FROM outbox_parked p WHERE p.key = o.key AND p.subject = o.subject"
    "  AND p.behind IS NULL AND p.discarded_at IS NULL) END AS behind"
    f" FROM outbox o WHERE {_WAITING} ORDER BY o.seq LIMIT $1")
_PARK = ("INSERT INTO outbox_parked (seq, key, subject, error_type, reason, behind)"
         " SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])")

Connect = Callable[[], Awaitable[AIOKafkaProducer]]


class _Batch:
    """One relay batch's bookkeeping: rows published, rows parked, and the (key, subject) pairs now
    blocked behind a parked row."""

    def __init__(self) -> None:
        self.published: list[asyncpg.Record] = []
        self.parked: list[tuple] = []  # (seq, key, subject, error_type, reason, behind)
        self.blocked: dict[tuple[str, str], int] = {}

    def head_for(self, row: asyncpg.Record) -> int | None:
        return row["behind"] or self.blocked.get((row["key"], row["subject"]))

    def park(self, row: asyncpg.Record, exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        self.parked.append((row["seq"], row["key"], row["subject"], type(exc).__name__, reason[:1000], None))
        self.blocked[(row["key"], row["subject"])] = row["seq"]
        log.error("outbox_row_parked", seq=row["seq"], event_id=row["event_id"], event_type=row["event_type"],
                  topic=row["topic"], error=type(exc).__name__, reason=reason[:300], bytes=len(row["payload"]))

    def hold(self, row: asyncpg.Record, head: int) -> None:
        self.parked.append((row["seq"], row["key"], row["subject"], HELD, f"waits behind parked row {head}", head))


async def _stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), 5.0)
    except (asyncio.TimeoutError, Exception) as exc:
        log.warning("relay_producer_stop_incomplete", error=type(exc).__name__)


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, producer: AIOKafkaProducer | None, service: str,
                 batch_size: int = 500, idle_poll_s: float = 0.05, wakeup: asyncio.Event | None = None,
                 connect: Connect | None = None, failing_after_s: float = _FAILING_AFTER_S) -> None:
        """`wakeup`: set by writers of this process after they commit events, so the relay publishes
        them at once instead of at its next poll (the poll still finds what other processes wrote).
        `connect`: starts a new producer (the relay stops it when done with it), needed after the
        broker refused a record; `producer` may then be None (one is connected at first use).
        `failing_after_s`: how long publishing fails before health() says so."""
        self.pool, self.producer, self.batch_size, self.idle_poll_s = pool, producer, batch_size, idle_poll_s
        self.wakeup, self.connect, self.failing_after_s = wakeup, connect, failing_after_s
        self.metrics = relay_metrics(service)
        self.parked = 0  # rows parked and not discarded, as of the last stats refresh
        self._owned: AIOKafkaProducer | None = None  # a producer this relay started (and stops)
        self._failing_since: float | None = None
        self._last_error = ""
        self._last_stats = 0.0

    def health(self) -> str:
        """"up", or "degraded: …" — parked rows, or publishing failing for a while (/readyz)."""
        if self._failing_since is not None and time.monotonic() - self._failing_since >= self.failing_after_s:
            return (f"degraded: publishing has failed for {time.monotonic() - self._failing_since:.0f} s"
                    f" ({self._last_error})")
        if self.parked:
            return f"degraded: {self.parked} parked row(s) in outbox_parked"
        return "up"

    async def run(self) -> None:
        backoff = 0.1
        try:
            while True:
                try:
                    n = await self.publish_batch()
                    backoff, self._failing_since = 0.1, None
                    if n < self.batch_size:
                        await self._idle()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or DB away: keep rows, retry with backoff
                    self.metrics.errors.inc()
                    self._last_error = type(exc).__name__
                    if self._failing_since is None:
                        self._failing_since = time.monotonic()
                    log.warning("outbox_publish_failed", error=type(exc).__name__, retry_in_s=backoff)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop the producer this relay started itself, if any."""
        owned, self._owned = self._owned, None
        if owned is not None:
            if self.producer is owned:
                self.producer = None
            await _stop(owned)

    async def _idle(self) -> None:
        if self.wakeup is None:
            await asyncio.sleep(self.idle_poll_s)
            return
        try:
            await asyncio.wait_for(self.wakeup.wait(), self.idle_poll_s)
        except asyncio.TimeoutError:
            return
        self.wakeup.clear()
        await asyncio.sleep(_GATHER_S)

    async def publish_batch(self) -> int:
        """Publish (or park) the next rows; how many were looked at."""
        if self.producer is None:
            await self._renew()
        async with self.pool.acquire() as conn:
            await self._refresh_stats(conn)
            async with conn.transaction():
                if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                    return 0
                rows = await conn.fetch(_NEXT, self.batch_size)
                if not rows:
                    return 0
                batch, error = _Batch(), None
                try:
                    failed = await self._send_all(rows, batch)
                    if failed:
                        await self._one_at_a_time(failed, batch)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # transient: what went out is still marked, the rest waits
                    error = exc
                await self._record(conn, batch)
        self._observe(batch)
        if error is not None:
            raise error
        return len(rows)

    async def _send_all(self, rows: list[asyncpg.Record], batch: _Batch) -> list[asyncpg.Record]:
        """Hand every row to the producer and wait for the acks; returns the rows the broker failed."""
        sent: list[tuple[asyncpg.Record, asyncio.Future]] = []
        try:
            for r in rows:
                head = batch.head_for(r)
                if head is not None:
                    batch.hold(r, head)
                    continue
                try:
                    sent.append((r, await self._send(r)))
                except PERMANENT as exc:  # refused before it left (the producer's own size limit)
                    batch.park(r, exc)
        finally:  # a transient error stops the handing over; what is in flight is still waited for
            results = await asyncio.gather(*(f for _, f in sent), return_exceptions=True)
            failed = []
            for (r, _), result in zip(sent, results):
                if isinstance(result, BaseException):
                    failed.append(r)
                else:
                    batch.published.append(r)
        return failed

    async def _one_at_a_time(self, rows: list[asyncpg.Record], batch: _Batch) -> None:
        """The rows of a batch the broker failed: each alone, in seq order, on a producer without a
        gap in its sequence; only a row refused alone (PERMANENT) is parked."""
        log.warning("outbox_publish_isolating", rows=len(rows))
        await self._renew()
        for r in rows:
            head = batch.head_for(r)
            if head is not None:
                batch.hold(r, head)
                continue
            try:
                await (await self._send(r))
            except PERMANENT as exc:
                batch.park(r, exc)
                await self._renew()  # the refusal left a gap again
            else:
                batch.published.append(r)

    async def _send(self, r: asyncpg.Record) -> asyncio.Future:
        return await self.producer.send(r["topic"], r["payload"], key=r["key"].encode(),
                                        headers=headers_for(r["event_type"], r["event_id"]))

    async def _renew(self) -> None:
        """A new producer (fresh idempotence sequences); the one this relay started before is stopped."""
        if self.connect is None:
            if self.producer is None:
                raise RuntimeError("the relay has no producer and no way to connect one")
            return
        new = await self.connect()
        old, self.producer, self._owned = self._owned, new, new
        if old is not None:
            await _stop(old)

    async def _record(self, conn: asyncpg.Connection, batch: _Batch) -> None:
        if batch.published:
            await conn.execute("UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                               [r["seq"] for r in batch.published])
        if batch.parked:
            await conn.execute(_PARK, *map(list, zip(*batch.parked)))

    def _observe(self, batch: _Batch) -> None:
        now = datetime.now(timezone.utc)
        observe = self.metrics.publish_latency.observe
        for r in batch.published:
            observe((now - r["created_at"]).total_seconds())
        for event_type, n in Counter(r["event_type"] for r in batch.published).items():  # one labels() per type
            self.metrics.published.labels(event_type).inc(n)
        for reason, n in Counter(p[3] for p in batch.parked).items():
            self.metrics.parked_total.labels(reason).inc(n)
        if batch.parked:
            self._last_stats = 0.0  # the gauge and /readyz catch up at the next batch, not in a second

    async def _refresh_stats(self, conn: asyncpg.Connection) -> None:
        if time.monotonic() - self._last_stats < 1.0:
            return
        self._last_stats = time.monotonic()
        s = await stats(conn)
        self.metrics.depth.set(s["depth"])
        self.metrics.oldest_age.set(s["oldest_age_seconds"])
        self.metrics.parked.set(s["parked"])
        self.parked = s["parked"]
