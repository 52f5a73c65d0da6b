"""Notifier sender benchmark: emails per second accepted by the local SMTP sink, the notifier's
sender against naive senders, same messages, same run, same sink.

    .venv/bin/python -m bench.notifier_bench [--messages 3000] [--concurrency 16]

Scenarios (each sends --messages copies of one real rendered order email — the thank-you of
tests/support/notifier_samples.py, ~20 kB multipart — each with its own Message-ID):
  naive-serial    one message at a time, a new SMTP connection for each (the notifier before
                  issue 11: one `send_one` after another, aiosmtplib.send per message);
  naive-parallel  --concurrency messages at once, still a new connection for each;
  sink-before     naive-parallel again, against the mail sink as it was before issue 11's
                  work (--sink-before: fsync per message, aiosmtpd's line-by-line DATA reader);
  notifier        the sender exactly as bootstrap wires it (its "notifier-sender" worker): rounds
                  of sending.send_batch — claim a leased batch in PostgreSQL, gating, deliver over
                  the pooled SmtpMailer (smtp_pool_size = send_concurrency = --concurrency),
                  group-commit the outcomes and message.sent — on a schema of its own in the
                  stack's notifier database (created and dropped here).
The sink is a private instance of deploy/local/mailsink.py (durable: a journal fsynced per group)
on free ports, in a temporary directory. CPU seconds of this process and of the sink come from
/proc; the load average before and after says how busy the machine was. JSON goes to
bench/results/ (gitignored).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import aiosmtplib
import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SCHEMA = "aftercart_bench_notifier"
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_email():
    """(to, subject, text, html) of a real rendered order thank-you."""
    from services.notifier.domain.store_settings import StoreSettings
    from tests.support.notifier_samples import render_sample
    d = render_sample("order_thanks", "en", StoreSettings.defaults())
    return d.to_address, d.subject, d.text, d.html


class Sink:
    """deploy/local/mailsink.py as its own process; `source` runs another version of that file
    (the sink before this change, from git) the same way."""

    def __init__(self, directory: Path, source: Path | None = None) -> None:
        self.smtp_port, self.http_port, self.dir = free_port(), free_port(), directory
        program = [str(source)] if source else ["-m", "deploy.local.mailsink"]
        self.proc = subprocess.Popen(
            [sys.executable, *program, "--host", "127.0.0.1", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.http_port), "--mail-dir", str(directory)], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.api = f"http://127.0.0.1:{self.http_port}"

    async def count(self) -> int:
        return len(list(self.dir.glob("*.eml"))) if self.dir.exists() else 0

    async def ready(self) -> None:
        async with httpx.AsyncClient(timeout=2) as http:
            for _ in range(200):
                try:
                    (await http.get(f"{self.api}/api/health")).raise_for_status()
                    return
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
        raise RuntimeError("sink not ready")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


async def naive(sink: Sink, emails: list, concurrency: int) -> None:
    """A new SMTP connection (connect, EHLO, MAIL, RCPT, DATA, QUIT) per message."""
    queue = list(reversed(emails))

    async def worker() -> None:
        while queue:
            m = queue.pop()
            client = aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.smtp_port, timeout=60)
            await client.connect()
            await client.sendmail(m.sender, m.recipients, m.data)
            await client.quit()

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_naive(name: str, sink: Sink, n: int, concurrency: int, content, offset: int) -> dict:
    from shared.email import raw_email
    to, subject, text, html = content
    emails = [raw_email(from_address="Demo <shop@demo.test>", message_id=f"bench-{name}-{i}", to=to,
                        subject=subject, text=text, html=html) for i in range(n)]
    before, cpu0, sink0 = await sink.count(), time.process_time(), cpu_s(sink.proc.pid)
    t0 = time.perf_counter()
    await naive(sink, emails, concurrency)  # each send returns on the sink's 250
    t1 = time.perf_counter()
    assert await sink.count() == before + n
    return figures(name, n, t1 - t0, time.process_time() - cpu0, cpu_s(sink.proc.pid) - sink0, concurrency)


async def run_notifier(sink: Sink, n: int, concurrency: int, content, dsn: str) -> dict:
    from services.notifier.adapters.messages import PgMessages
    from services.notifier.bootstrap import MIGRATIONS, bootstrap
    from services.notifier.config import NotifierSettings
    from services.notifier.domain.messages import Draft
    from shared.db.migrations import apply_migrations
    from shared.db.pool import create_pool

    admin = await asyncpg.connect(dsn)
    await admin.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
    await admin.execute(f'CREATE SCHEMA "{SCHEMA}"')
    scoped = f"{dsn}?search_path={SCHEMA}"
    pool = await create_pool(scoped, 2, 8)
    try:
        await apply_migrations(pool, MIGRATIONS, "notifier")
        to, subject, text, html = content
        async with pool.acquire() as conn:
            async with conn.transaction():
                repo = PgMessages(conn)
                for i in range(n):
                    await repo.record_intent(message_id=f"bench-notifier-{i}", cause_event_id=f"bench-evt-{i}",
                                             cause_type="order.paid", customer_key=f"bench:c{i}",
                                             draft=Draft("order_thanks", to, subject, text, html))
        settings = NotifierSettings(environment="development", database_url=scoped, smtp_port=sink.smtp_port,
                                    send_concurrency=concurrency, smtp_pool_size=concurrency)
        notifier = bootstrap(settings)
        runtime = SimpleNamespace(pool=pool, outbox_written=asyncio.Event())
        before, cpu0, sink0 = await sink.count(), time.process_time(), cpu_s(sink.proc.pid)
        t0 = time.perf_counter()
        sender = asyncio.create_task(notifier.runtime.workers["notifier-sender"](runtime))
        # Until every message was accepted by the sink AND marked sent (a cheap indexed count).
        while await pool.fetchval("SELECT count(*) FROM messages WHERE status = 'pending'") > 0:
            await asyncio.sleep(0.02)
        t1 = time.perf_counter()
        cpu, sink_cpu = time.process_time() - cpu0, cpu_s(sink.proc.pid) - sink0
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await notifier.mailer.close()
        assert await sink.count() == before + n
        assert await pool.fetchval("SELECT count(*) FROM messages WHERE status = 'sent'") == n
        out = figures("notifier", n, t1 - t0, cpu, sink_cpu, concurrency)
        out["smtp_connections"] = notifier.mailer.connections_opened
        return out
    finally:
        await pool.close()
        await admin.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        await admin.close()


def figures(name: str, n: int, seconds: float, cpu: float, sink_cpu: float, concurrency: int) -> dict:
    return {"scenario": name, "messages": n, "concurrency": concurrency, "seconds": round(seconds, 3),
            "emails_per_s": round(n / seconds, 1), "sender_cpu_ms_per_email": round(1000 * cpu / n, 3),
            "sink_cpu_ms_per_email": round(1000 * sink_cpu / n, 3)}


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=3000)
    p.add_argument("--serial-messages", type=int, default=300, help="naive-serial is slow: fewer messages")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--repeat", type=int, default=1, help="passes over the scenarios, interleaved; the median is kept")
    p.add_argument("--only", choices=["naive-serial", "naive-parallel", "notifier", "sink-before"],
                   action="append", help="run only these scenarios (ratios need the baselines)")
    p.add_argument("--sink-before", default="4e63149~1",
                   help="git ref of the mail sink to compare with (naive-parallel against it): the one before"
                        " the journal and the bulk DATA reader")
    p.add_argument("--dsn", default=os.environ.get("AFTERCART_NOTIFIER_DATABASE_URL",
                                                   "postgresql://notifier:notifier@127.0.0.1:55432/notifier"))
    a = p.parse_args()
    from shared.logging import setup_logging
    setup_logging("notifier", "WARNING")  # as in a service: JSON lines, here only the warnings
    load_before = os.getloadavg()
    content = sample_email()
    tmp = Path(tempfile.mkdtemp(prefix="aftercart-notifier-bench-"))
    sink = Sink(tmp / "mail")
    try:
        await sink.ready()
        only = set(a.only or ["naive-serial", "naive-parallel", "notifier", "sink-before"])
        runs: list[list[dict]] = []
        for _ in range(a.repeat):  # interleaved: a machine whose load drifts hits every scenario alike
            runs.append(await one_pass(a, only, sink, content, tmp))
        rows = [median_row([r for run in runs for r in run if r["scenario"] == name])
                for name in [r["scenario"] for r in runs[0]]]
    finally:
        sink.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(a, rows, load_before, content)


async def one_pass(a, only: set[str], sink: Sink, content, tmp: Path) -> list[dict]:
    rows = []
    if "sink-before" in only:
        old = tmp / "mailsink_before.py"
        old.write_bytes(subprocess.run(["git", "show", f"{a.sink_before}:deploy/local/mailsink.py"], cwd=ROOT,
                                       check=True, capture_output=True).stdout)
        before = Sink(tmp / f"mail-before-{time.time_ns()}", source=old)
        try:
            await before.ready()
            rows.append(await run_naive("sink-before", before, a.messages, a.concurrency, content, 0))
        finally:
            before.stop()
    if "naive-serial" in only:
        rows.append(await run_naive("naive-serial", sink, a.serial_messages, 1, content, 0))
    if "naive-parallel" in only:
        rows.append(await run_naive("naive-parallel", sink, a.messages, a.concurrency, content, 0))
    if "notifier" in only:
        rows.append(await run_notifier(sink, a.messages, a.concurrency, content, a.dsn))
    return rows


def median_row(rows: list[dict]) -> dict:
    """The pass with the median rate (its own CPU figures with it), and every pass's rate."""
    ordered = sorted(rows, key=lambda r: r["emails_per_s"])
    out = dict(ordered[len(ordered) // 2])
    out["rates"] = [r["emails_per_s"] for r in rows]
    return out


def report(a, rows: list[dict], load_before, content) -> None:
    base = {r["scenario"]: r["emails_per_s"] for r in rows}
    for r in rows:
        r["vs_naive_serial"] = round(r["emails_per_s"] / base["naive-serial"], 2) if "naive-serial" in base else None
        r["vs_naive_parallel"] = (round(r["emails_per_s"] / base["naive-parallel"], 2)
                                  if "naive-parallel" in base else None)
    result = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cores": os.cpu_count(),
              "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in os.getloadavg()], "email_bytes": len(content[3]) + len(content[2]),
              "scenarios": rows}
    print(f"{'scenario':16} {'msgs':>6} {'emails/s':>9} {'×serial':>8} {'×parallel':>10} {'sender ms/email':>16}"
          f" {'sink ms/email':>14}")
    for r in rows:
        print(f"{r['scenario']:16} {r['messages']:>6} {r['emails_per_s']:>9} {str(r['vs_naive_serial'] or '-'):>8}"
              f" {str(r['vs_naive_parallel'] or '-'):>10} {r['sender_cpu_ms_per_email']:>16} {r['sink_cpu_ms_per_email']:>14}"
              f"   passes: {r.get('rates')}")
    print(f"load average before {result['load_before']}, after {result['load_after']} ({os.cpu_count()} cores)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"notifier-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"results: {out}")


if __name__ == "__main__":
    asyncio.run(main())
