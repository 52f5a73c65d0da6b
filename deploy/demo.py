"""`aftercart demo`: a small store's day played into the running system, and `aftercart where`.

The demo registers the store simulator as store "demo" with ingest (webhook secret and REST
credentials), (re)starts the simulator on 127.0.0.1:8080 so it plays its day of signed webhooks
to ingest, waits until the mail sink stops receiving, and prints what arrived.
"""
from __future__ import annotations

import os
import sys
import time

import httpx
import typer

from deploy import services
from deploy.stack import procs
from deploy.stack.config import StackSettings

DEMO_SECRET = "demo-webhook-secret-0123456789"
DEMO_CK, DEMO_CS = "ck_demo_aftercart", "cs_demo_aftercart"
SIM_PORT = int(os.environ.get("AFTERCART_STORESIM_PORT", "8080"))


def _storesim(s: StackSettings, ingest_url: str) -> procs.Component:
    return procs.Component(
        name="storesim", marker="deploy.storesim", ports={"storesim_port": SIM_PORT},
        address=f"http://{s.host}:{SIM_PORT}/wp-json/wc/v3",
        argv=[sys.executable, "-m", "deploy.storesim", "serve", "--port", str(SIM_PORT), "--host", s.host,
              "--consumer-key", DEMO_CK, "--consumer-secret", DEMO_CS,
              "--play-to", f"{ingest_url}/webhooks/woocommerce", "--secret", DEMO_SECRET, "--step-delay", "0.2"],
        cwd=services.ROOT, env=dict(os.environ))


def _mail_count(s: StackSettings) -> int:
    return len(httpx.get(f"{s.mail_api_url()}/api/messages", timeout=5).json())


def run_demo() -> None:
    s = StackSettings()
    ingest = services.component(s, "ingest").address
    token = os.environ.get("AFTERCART_INGEST_API_TOKEN", "dev-ingest-token")
    r = httpx.post(f"{ingest}/stores", headers={"Authorization": f"Bearer {token}"}, timeout=10, json={
        "store_id": "demo", "source_url": f"http://{s.host}:{SIM_PORT}/", "webhook_secret": DEMO_SECRET,
        "rest_url": f"http://{s.host}:{SIM_PORT}", "consumer_key": DEMO_CK, "consumer_secret": DEMO_CS,
        "timezone": "Europe/Paris", "locale": "en_GB"})
    if r.status_code != 201:
        raise procs.StackError(f"could not register the demo store with ingest: {r.status_code} {r.text}")
    known = httpx.get(f"{s.mail_api_url()}/api/messages", timeout=5).json()
    before = len(known)
    comp = _storesim(s, ingest)
    procs.stop(s, comp)  # a fresh simulator plays the day again
    print(f"  storesim  started   pid {procs.start(s, comp):<7} {comp.address}")
    print("  playing a store's day of signed webhooks into ingest …")
    last, stable_since, deadline = before, time.monotonic(), time.monotonic() + 90
    while time.monotonic() < deadline:
        time.sleep(1.0)
        n = _mail_count(s)
        if n != last:
            last, stable_since = n, time.monotonic()
        elif n > before and time.monotonic() - stable_since > 6:
            break
    seen = {m["id"] for m in known}
    new = [m for m in httpx.get(f"{s.mail_api_url()}/api/messages", timeout=5).json() if m["id"] not in seen]
    print(f"  {len(new)} emails arrived in the mail sink:")
    for m in new:
        print(f"    {m['subject']}")


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
