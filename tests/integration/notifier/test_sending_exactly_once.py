"""Exactly once under crashes and concurrency, through real processes, PostgreSQL and a real SMTP
sink (a private one: every message in it is ours, counted by Message-ID):

  * a notifier sender killed with SIGKILL in the middle of a batch — part of it accepted by the
    relay and committed, the rest claimed and on its way (the sink holds those DATA commands
    unanswered, never storing them) — then restarted: every message arrives exactly once;
  * two sender instances on one database: every message arrives exactly once, and both sent some.

The senders are bootstrap's own sender worker (tests/support/sender_child.py) in their own
processes; the messages live in a schema of this test's own.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter

import asyncpg

from services.notifier.adapters.messages import PgMessages
from services.notifier.bootstrap import MIGRATIONS
from services.notifier.domain.messages import Draft
from shared.db.migrations import apply_migrations
from tests.support.pg_schema import isolated_schema
from tests.support.private_mailsink import private_mailsink

WAIT_S = 120.0


class SenderProcess:
    """A sender child; its stdout (JSON log lines) is read as it comes, so the pipe never fills."""

    def __init__(self, dsn: str, smtp_port: int, **settings: str) -> None:
        self.env = {**os.environ, "AFTERCART_ENV": "development", "AFTERCART_NOTIFIER_DATABASE_URL": dsn,
                    "AFTERCART_NOTIFIER_SMTP_HOST": "127.0.0.1", "AFTERCART_NOTIFIER_SMTP_PORT": str(smtp_port),
                    **{f"AFTERCART_NOTIFIER_{k.upper()}": str(v) for k, v in settings.items()}}
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.support.sender_child", str(WAIT_S + 60), env=self.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._ready.wait(), 60)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").strip()
            self.lines.append(line)
            if line == "ready":
                self._ready.set()

    def sent_ids(self) -> set[str]:
        ids: set[str] = set()
        for line in self.lines:
            if '"messages_sent"' in line:
                ids |= set(json.loads(line)["message_ids"])
        return ids

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()  # SIGKILL: no cleanup, no goodbye to the relay or the database
            await self.proc.wait()
        if getattr(self, "_reader", None) is not None:
            await self._reader


async def _record(pool: asyncpg.Pool, uid: str, n: int) -> list[str]:
    ids = [f"x{uid}-{i:04d}" for i in range(n)]
    async with pool.acquire() as conn:
        messages = PgMessages(conn)
        for i, message_id in enumerate(ids):
            await messages.record_intent(
                message_id=message_id, cause_event_id=f"evt-{uid}-{i}", cause_type="order.placed",
                customer_key=f"x{uid}:c{i}", draft=Draft("order_thanks", f"c{i}-{uid}@example.com",
                                                         f"Thanks #{i}", f"text {i}", f"<p>html {i}</p>"))
    return ids


async def _until(what, timeout: float = WAIT_S, every: float = 0.2):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await what()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting for {what.__name__}"
        await asyncio.sleep(every)


async def _counts(pool: asyncpg.Pool) -> dict[str, int]:
    rows = await pool.fetch("SELECT status, next_attempt_at > now() AS leased, count(*) AS n FROM messages"
                            " GROUP BY 1, 2")
    out = Counter()
    for r in rows:
        out[r["status"] + ("_leased" if r["leased"] and r["status"] == "pending" else "")] += r["n"]
    return out


def _by_message_id(mail: list[dict]) -> Counter:
    return Counter(m["message_id"] for m in mail)


async def test_kill_9_mid_batch_then_restart_sends_every_message_exactly_once(stack, uid, tmp_path):
    n, accepted_before_kill = 240, 60
    async with isolated_schema(stack.service_dsn("notifier"), f"ntf_crash_{uid}") as dsn, \
            private_mailsink(tmp_path / "mail") as sink:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            ids = await _record(pool, uid, n)
            # The relay accepts 60 messages, then holds every further DATA unanswered (not stored).
            await sink.faults(hold_after=accepted_before_kill)
            # The lease outlasts the look below; the restart then waits for it to run out.
            settings = dict(send_batch=50, send_concurrency=8, smtp_pool_size=8, send_lease_s=10,
                            smtp_timeout_s=120)
            first = SenderProcess(dsn, sink.smtp_port, **settings)
            await first.start()

            async def sixty_accepted():
                return await sink.count() >= accepted_before_kill

            async def sixty_committed_and_a_batch_in_flight():
                c = await _counts(pool)
                seen.append(dict(c))
                return c if c["sent"] == accepted_before_kill and c["pending_leased"] > 0 else None

            seen: list[dict] = []
            await _until(sixty_accepted)
            try:
                mid_batch = await _until(sixty_committed_and_a_batch_in_flight, timeout=30)
            except AssertionError:
                raise AssertionError(f"rows by status: {seen[-1:]}") from None
            await first.kill()
            # Mid-batch: some of what it claimed was accepted and committed, the rest was in flight.
            assert mid_batch["sent"] == accepted_before_kill and mid_batch["pending_leased"] >= 1
            assert await sink.count() == accepted_before_kill
            await sink.faults()  # the relay is well again (the held sessions are refused, not stored)

            second = SenderProcess(dsn, sink.smtp_port, **settings)
            await second.start()

            async def all_sent():
                return (await _counts(pool))["sent"] == n

            try:
                await _until(all_sent)
            finally:
                await second.kill()
            mail = await sink.messages()
            assert _by_message_id(mail) == Counter({f"<{i}@aftercart>": 1 for i in ids})  # each once, none lost
            assert len(list((tmp_path / "mail").glob("*.eml"))) == n
            assert len(first.sent_ids()) == accepted_before_kill and not first.sent_ids() & second.sent_ids()
            assert first.sent_ids() | second.sent_ids() == set(ids)
            assert await pool.fetchval("SELECT count(*) FROM outbox") == n  # one message.sent each
        finally:
            await pool.close()


async def test_two_instances_send_every_message_exactly_once(stack, uid, tmp_path):
    n = 300
    async with isolated_schema(stack.service_dsn("notifier"), f"ntf_two_{uid}") as dsn, \
            private_mailsink(tmp_path / "mail") as sink:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=3)
        senders = []
        try:
            await apply_migrations(pool, MIGRATIONS, "notifier")
            settings = dict(send_batch=10, send_concurrency=4, smtp_pool_size=4)
            senders = [SenderProcess(dsn, sink.smtp_port, **settings) for _ in range(2)]
            await asyncio.gather(*(s.start() for s in senders))
            ids = await _record(pool, uid, n)  # both are polling when the messages arrive

            async def all_sent():
                return (await _counts(pool))["sent"] == n

            await _until(all_sent)
            for s in senders:
                await s.kill()
            mail = await sink.messages()
            assert _by_message_id(mail) == Counter({f"<{i}@aftercart>": 1 for i in ids})
            a, b = (s.sent_ids() for s in senders)
            assert a and b and not a & b and a | b == set(ids)  # both worked, never on the same message
        finally:
            for s in senders:
                await s.kill()
            await pool.close()
