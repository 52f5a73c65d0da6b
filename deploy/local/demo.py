"""`aftercart demo`: a small store's day played into the running system, and `aftercart where`.

The demo registers the store simulator as store "demo" with ingest (webhook secret and REST
credentials), (re)starts the simulator on 127.0.0.1:8080 so it plays its day of signed webhooks
to ingest, and prints each of the demo store's emails as the mail sink receives it. Every run is
a new day: the simulator's ids start past the earlier days' (a counter in <state_dir>/demo-day),
so its orders are new orders and their emails new emails. It ends a few seconds after the day is
played and the mail has stopped, with which flows the day's emails covered.

More of a day: add an act to EXTRA_ACTS (called after the store's day, with the stack settings
and the day number) — e.g. the loyalty and reviews events whose emails come later in a real day.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import httpx
import typer

from deploy.local import services
from deploy.local.stack import procs
from deploy.local.stack.config import StackSettings

DEMO_SECRET = "demo-webhook-secret-0123456789"
DEMO_CK, DEMO_CS = "ck_demo_aftercart", "cs_demo_aftercart"
SIM_PORT = int(os.environ.get("AFTERCART_STORESIM_PORT", "8080"))


QUIET_S = 3.0  # after the day is played: this long without a new email and the demo ends
NOTHING_S = 20.0
MAX_WAIT_S = 60.0
EXTRA_ACTS: list[Callable[[StackSettings, int], None]] = []


def next_day(s: StackSettings) -> int:
    """1 on a fresh install, then 2, 3, …: the day this run plays."""
    path = s.state_dir / "demo-day"
    try:
        day = int(path.read_text().strip()) + 1
    except (OSError, ValueError):
        day = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{day}\n")
    return day


def _storesim(s: StackSettings, ingest_url: str, day: int = 1) -> procs.Component:
    return procs.Component(
        name="storesim", marker="deploy.local.storesim", ports={"storesim_port": SIM_PORT},
        address=f"http://{s.host}:{SIM_PORT}/wp-json/wc/v3",
        argv=[sys.executable, "-m", "deploy.local.storesim", "serve", "--port", str(SIM_PORT), "--host", s.host,
              "--consumer-key", DEMO_CK, "--consumer-secret", DEMO_CS,
              "--play-to", f"{ingest_url}/webhooks/woocommerce", "--secret", DEMO_SECRET, "--step-delay", "0.2",
              "--id-base", str((day - 1) * 10_000)],  # day 1 keeps the ids it always had
        cwd=services.ROOT, env=dict(os.environ))


def _demo_mail(s: StackSettings, since: str) -> list[dict]:
    """The demo store's emails (other stores' — e.g. the tests' — share the sink) that arrived
    after `since` (the sink's ids start with their arrival time in nanoseconds)."""
    mail = httpx.get(f"{s.mail_api_url()}/api/messages", params={"since": since}, timeout=30).json()
    return [m for m in mail if m["headers"].get("X-Aftercart-Store") == "demo" and m["id"] > since]


def run_demo() -> None:
    s = StackSettings()
    ingest = services.component(s, "ingest").address
    fields = {"source_url": f"http://{s.host}:{SIM_PORT}/", "rest_url": f"http://{s.host}:{SIM_PORT}",
              "consumer_key": DEMO_CK, "consumer_secret": DEMO_CS, "timezone": "Europe/Paris", "locale": "en_GB"}
    r = httpx.post(f"{ingest}/stores", headers=api_auth("ingest"), timeout=10,
                   json={"store_id": "demo", "webhook_secret": DEMO_SECRET, **fields})
    if r.status_code == 409:  # registered by an earlier demo: registration is explicit, a change a PATCH
        r = httpx.patch(f"{ingest}/stores/demo", headers=api_auth("ingest"), timeout=10, json=fields)
    if r.status_code not in (200, 201):
        raise procs.StackError(f"could not register the demo store with ingest: {r.status_code} {r.text}")
    day = next_day(s)
    mark = f"{time.time_ns():020d}"  # what the sink holds already is not today's
    seen: set[str] = set()
    comp = _storesim(s, ingest, day)
    procs.stop(s, comp)  # a fresh simulator plays the new day
    log = procs.log_file(s, comp.name)
    log_from = log.stat().st_size if log.exists() else 0
    print(f"  storesim  started   pid {procs.start(s, comp):<7} {comp.address}")
    print(f"  playing day {day} of the store: signed webhooks into ingest; its emails as they arrive:")
    new: list[dict] = []
    played = False
    started = last = time.monotonic()
    while time.monotonic() - started < MAX_WAIT_S:
        time.sleep(0.3)
        if not played and _day_played(log, log_from):
            played = True
            last = max(last, time.monotonic())
            for act in EXTRA_ACTS:
                act(s, day)
        for m in _demo_mail(s, mark):
            if m["id"] not in seen:
                seen.add(m["id"])
                new.append(m)
                last = time.monotonic()
                print(f"    {time.monotonic() - started:5.1f}s  to {m['rcpt_tos'][0]:28} {m['subject']}", flush=True)
        # Done once the day is played and its mail has stopped (a day of fresh orders always has some;
        # nothing for NOTHING_S after the day means the services are behind: say so rather than wait on).
        if played and (time.monotonic() - last > (QUIET_S if new else NOTHING_S)):
            break
    print(f"  {len(new)} emails from the demo store's day {day} arrived in the mail sink")
    if not new:
        print("  (none yet: the services may still be working through earlier events; see `aftercart mail list`)")
    _show_flows(new)
    _show_points_and_reviews(s, {m["rcpt_tos"][0] for m in new}, (day - 1) * 10_000)


def _day_played(log, offset: int) -> bool:
    """The simulator prints its day's summary (JSON with "webhooks") once every step is delivered."""
    try:
        with open(log, "rb") as f:
            f.seek(offset)
            return b'"webhooks"' in f.read()
    except OSError:
        return False


def _show_flows(mail: list[dict]) -> None:
    """Which of the notifier's flows the day's emails covered (by their X-Aftercart-Template)."""
    try:
        from services.notifier.domain.flows import FLOWS
    except ImportError:
        return
    sent = {m["headers"].get("X-Aftercart-Template") for m in mail}
    covered = sorted(name for name, f in FLOWS.items() if f.template in sent or name in sent)
    missing = sorted(set(FLOWS) - set(covered))
    print(f"  flows covered today ({len(covered)} of {len(FLOWS)}): {', '.join(covered) or '-'}")
    if missing:
        print(f"  not in today's mail: {', '.join(missing)}")


def api_auth(service: str) -> dict[str, str]:
    """The bearer header for a local service's internal API: its token from the environment, or
    the built-in development one the local runner's services accept."""
    token = os.environ.get(f"AFTERCART_{service.upper()}_API_TOKEN", f"dev-{service}-token")
    return {"Authorization": f"Bearer {token}"}


def _show_points_and_reviews(s: StackSettings, emails: set[str], id_base: int = 0) -> None:
    """Points and review requests of the demo's customers (guests by email, accounts by id)."""
    from shared.ids import customer_key
    loyalty, reviews = services.component(s, "loyalty").address, services.component(s, "reviews").address
    keys = sorted({customer_key("demo", 0, e) for e in emails} | {f"demo:c{id_base + i}" for i in range(1, 6)})
    for key in keys:
        bal = httpx.get(f"{loyalty}/customers/{key}/balance", headers=api_auth("loyalty"), timeout=5).json()
        reqs = httpx.get(f"{reviews}/requests", params={"customer_key": key}, headers=api_auth("reviews"),
                         timeout=5).json()
        if bal.get("pending") or bal.get("available") or reqs:
            print(f"  {key[:24]:24} points pending {bal['pending']:>4}, available {bal['available']:>4}; "
                  f"review requests {len(reqs)} (due {', '.join(r['due_at'][:10] for r in reqs) or '-'})")


def where() -> None:
    s = StackSettings()
    rows = [("ingest API docs", f"{services.component(s, 'ingest').address}/docs")]
    rows += [(f"{n} API docs", f"{services.component(s, n).address}/docs") for n in ("notifier", "loyalty", "reviews")]
    rows += [("mail sink", f"{s.mail_api_url()}/"),
             ("metrics", f"{services.component(s, 'ingest').address}/metrics (and each service's /metrics)"),
             ("store simulator REST", f"http://{s.host}:{SIM_PORT}/wp-json/wc/v3/orders"
                                      f"?consumer_key={DEMO_CK}&consumer_secret={DEMO_CS}"),
             ("logs", f"{s.logs_dir}/"), ("kafka", s.bootstrap_servers()),
             ("postgres", f"{s.host}:{s.pg_port} (databases ingest, notifier, loyalty, reviews)")]
    print("\nWhere to look:")
    for what, url in rows:
        print(f"  {what:22} {url}")


def demo_cmd():
    """Play a small store's day of signed webhooks into the running system."""
    try:
        run_demo()
    except (procs.StackError, httpx.HTTPError) as exc:
        typer.secho(f"demo failed: {exc}", fg="red", err=True)
        raise typer.Exit(1)
