"""`aftercart services up | down | status`: the four services, the faust profile worker (and the
store simulator) as detached processes, wired to the local stack's ports, with the same pid/log bookkeeping as the
stack (state_dir/run, state_dir/logs)."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
import typer

from deploy.local.stack import procs
from deploy.local.stack.config import StackSettings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"ingest": 8001, "notifier": 8002, "loyalty": 8003, "reviews": 8004, "profiles": 8005}
# Not an HTTP service: the faust worker, with a small /healthz /readyz /metrics endpoint of its own.
WORKERS = {"profiles": "services.profiles.entrypoints.worker"}
services_app = typer.Typer(help="Run the four Aftercart services and the profile worker locally.",
                           no_args_is_help=True)


def service_port(name: str) -> int:
    return int(os.environ.get(f"AFTERCART_{name.upper()}_PORT", SERVICES[name]))


def _env(s: StackSettings, name: str) -> dict[str, str]:
    prefix = f"AFTERCART_{name.upper()}_"
    env = dict(os.environ)
    # The local runner is a laptop's: development mode, so the built-in API tokens are accepted.
    env.setdefault("AFTERCART_ENV", "development")
    defaults = {"KAFKA_BOOTSTRAP": s.bootstrap_servers(), "PORT": str(service_port(name))}
    if name not in WORKERS:  # the profile worker keeps its state in Kafka, not PostgreSQL
        defaults["DATABASE_URL"] = s.service_dsn(name)
    if name == "notifier":
        defaults.update(SMTP_HOST=s.host, SMTP_PORT=str(s.smtp_port))
    if name == "reviews":  # its pages' address, ingest for the stores' credentials, photos under the state
        defaults.update(PUBLIC_URL=f"http://{s.host}:{service_port(name)}",
                        INGEST_URL=f"http://{s.host}:{service_port('ingest')}",
                        PHOTO_DIR=str(s.state_dir / "reviews" / "photos"))
    for k, v in defaults.items():
        env.setdefault(prefix + k, v)  # an explicit setting wins over the stack's defaults
    return env


# The consumers (notifier, loyalty, reviews) run at a lower CPU priority than ingest: on a small
# machine a backlog they chew through must not slow the front door, whose callers (every store's
# WooCommerce queue runner) wait on each answer. 0 turns it off. (`nice` execs the service: same pid.)
CONSUMER_NICE = int(os.environ.get("AFTERCART_CONSUMER_NICE", "10"))


def _niced(name: str) -> list[str]:
    return ["nice", "-n", str(CONSUMER_NICE)] if name != "ingest" and CONSUMER_NICE > 0 else []


def component(s: StackSettings, name: str) -> procs.Component:
    port = service_port(name)
    if name in WORKERS:
        return procs.Component(
            name=name, marker=WORKERS[name], ports={f"{name}_port": port}, address=f"http://{s.host}:{port}",
            argv=[sys.executable, "-m", WORKERS[name]], cwd=ROOT, env=_env(s, name), stop_timeout=15.0)
    module = f"services.{name}.entrypoints.api"
    return procs.Component(
        name=name, marker=module, ports={f"{name}_port": port}, address=f"http://{s.host}:{port}",
        # The serving layer every deployment uses (timeouts and limits from the service's settings).
        argv=[*_niced(name), sys.executable, "-m", "shared.service.serve", f"{module}:create_app", "--host", s.host,
              "--port", str(port)],
        cwd=ROOT, env=_env(s, name), stop_timeout=15.0)


def wait_ready(url: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{url}/readyz", timeout=2)
            body = r.json()
            if r.status_code == 200:
                return body
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise procs.StackError(f"{url} not ready after {timeout:.0f}s: missing {body.get('missing', '?')}")


def up(s: StackSettings | None = None, wait: bool = True) -> None:
    s = s or StackSettings()
    for name in SERVICES:
        comp = component(s, name)
        pid = procs.our_pid(s, comp)
        if pid:
            print(f"  {name:9} running   pid {pid:<7} {comp.address}")
            continue
        port = service_port(name)
        if procs.port_open(s.host, port):
            raise procs.StackError(f"port {port} ({name}) is already in use by another process; "
                                   f"set AFTERCART_{name.upper()}_PORT to use another port")
        print(f"  {name:9} started   pid {procs.start(s, comp):<7} {comp.address}")
    if wait:
        for name in SERVICES:
            wait_ready(component(s, name).address)
        print("services ready")


def down(s: StackSettings | None = None) -> None:
    s = s or StackSettings()
    # The store simulator `aftercart demo` started goes too (identified by its pid file and marker).
    simulator = procs.Component(name="storesim", argv=[], marker="deploy.local.storesim", ports={}, address="")
    if procs.stop(s, simulator):
        print("  storesim  stopped")
    for name in reversed(list(SERVICES)):
        print(f"  {name:9} {'stopped' if procs.stop(s, component(s, name)) else 'not running'}")


def _cli(fn) -> None:
    try:
        fn()
    except procs.StackError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1)


@services_app.command("up")
def up_cmd(wait: bool = typer.Option(True, "--wait/--no-wait", help="wait until every /readyz says ready")):
    """Start ingest, notifier, loyalty, reviews and the profile worker (idempotent)."""
    _cli(lambda: up(wait=wait))


@services_app.command("down")
def down_cmd():
    """Stop the services `up` started (and the demo's store simulator)."""
    _cli(down)


@services_app.command("status")
def status_cmd():
    """Which services run, where, and whether they are ready."""
    s = StackSettings()
    for name in SERVICES:
        comp = component(s, name)
        pid = procs.our_pid(s, comp)
        state = "down"
        if pid:
            try:
                state = "ready" if httpx.get(f"{comp.address}/readyz", timeout=2).status_code == 200 else "not ready"
            except httpx.HTTPError:
                state = "starting"
        print(f"{name:9} {state:9} pid {pid or '-':<7} {comp.address}")
