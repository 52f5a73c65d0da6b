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

from deploy.local import services
from deploy.local.stack import procs
from deploy.local.stack.config import StackSettings

DEMO_SECRET = "demo-webhook-secret-0123456789"
DEMO_CK, DEMO_CS = "ck_demo_aftercart", "cs_demo_aftercart"
SIM_PORT = int(os.environ.get("AFTERCART_STORESIM_PORT", "8080"))


def _storesim(s: StackSettings, ingest_url: str) -> procs.Component:
    return procs.Component(
        name="storesim", marker="deploy.local.storesim", ports={"storesim_port": SIM_PORT},
        address=f"http://{s.host}:{SIM_PORT}/wp-json/wc/v3",
        argv=[sys.executable, "-m", "deploy.local.storesim", "serve", "--port", str(SIM_PORT), "--host", s.host,
              "--consumer-key", DEMO_CK, "--consumer-secret", DEMO_CS,
              "--play-to", f"{ingest_url}/webhooks/woocommerce", "--secret", DEMO_SECRET, "--step-delay", "0.2"],
        cwd=services.ROOT, env=dict(os.environ))


def _demo_mail(s: StackSettings) -> list[dict]:
    """The demo store's emails (other stores' — e.g. the tests' — share the sink)."""
    return [m for m in httpx.get(f"{s.mail_api_url()}/api/messages", timeout=10).json()
            if m["headers"].get("X-Aftercart-Store") == "demo"]


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
    known = _demo_mail(s)
    before = len(known)
    comp = _storesim(s, ingest)
    procs.stop(s, comp)  # a fresh simulator plays the day again
    print(f"  storesim  started   pid {procs.start(s, comp):<7} {comp.address}")
    print("  playing a store's day of signed webhooks into ingest …")
    last, stable_since, deadline = before, time.monotonic(), time.monotonic() + 90
    while time.monotonic() < deadline:
        time.sleep(1.0)
        n = len(_demo_mail(s))
        if n != last:
            last, stable_since = n, time.monotonic()
        elif n > before and time.monotonic() - stable_since > 6:
            break
    seen = {m["id"] for m in known}
    new = [m for m in _demo_mail(s) if m["id"] not in seen]
    print(f"  {len(new)} emails from the demo store arrived in the mail sink:")
    for m in new:
        print(f"    to {m['rcpt_tos'][0]:28} {m['subject']}")
    if not new:
        print("  (none yet: the services may still be working through earlier events; see `aftercart mail list`)")
    _show_points_and_reviews(s, {m["rcpt_tos"][0] for m in new})


def api_auth(service: str) -> dict[str, str]:
    """The bearer header for a local service's internal API: its token from the environment, or
    the built-in development one the local runner's services accept."""
    token = os.environ.get(f"AFTERCART_{service.upper()}_API_TOKEN", f"dev-{service}-token")
    return {"Authorization": f"Bearer {token}"}


def _show_points_and_reviews(s: StackSettings, emails: set[str]) -> None:
    """Points and review requests of the demo's customers (guests by email, accounts by id)."""
    from shared.ids import customer_key
    loyalty, reviews = services.component(s, "loyalty").address, services.component(s, "reviews").address
    keys = sorted({customer_key("demo", 0, e) for e in emails} | {f"demo:c{i}" for i in range(1, 6)})
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
