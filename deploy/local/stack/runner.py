"""`aftercart stack up|down|status|logs|install`: the local Kafka + PostgreSQL + SMTP sink.

Callable from Python too: up()/down()/status() (or `await up_async()` inside a running
event loop). `up` is idempotent: a component whose pid file points at our live process and
whose ports answer is left alone; topics and service databases are (re)ensured every time.
"""
from __future__ import annotations

import asyncio
import fcntl
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

import typer

from deploy.local import mailsink
from deploy.local.stack import kafka, postgres, procs
from deploy.local.stack.config import StackSettings
from deploy.local.stack.procs import Component, StackError


@dataclass(frozen=True)
class Part:
    name: str
    component: Callable[[StackSettings], Component]
    prepare: Callable[[StackSettings], None]  # install/initialise; runs before a start
    ready: Callable[[StackSettings, float], Awaitable[None]]


async def _kafka_ready(s: StackSettings, timeout: float) -> None:
    await kafka.wait_ready(s, timeout)
    result = await kafka.ensure_topics(s.bootstrap_servers())
    created = [n for n, st in result.items() if st == "created"]
    if created:
        print(f"  kafka: created topics {', '.join(created)}")
    for name, state in result.items():
        if state.startswith("mismatch"):
            print(f"  kafka: WARNING topic {name} {state}")


# Start order; `down` goes in reverse.
PARTS: tuple[Part, ...] = (
    Part("kafka", kafka.component, kafka.prepare, _kafka_ready),
    Part("postgres", postgres.component, postgres.prepare, postgres.wait_ready),
    Part("mailsink", mailsink.component, lambda s: s.mail_dir.mkdir(parents=True, exist_ok=True),
         mailsink.wait_ready),
)


@contextmanager
def _stack_lock(s: StackSettings):
    """Serialise up/down: two concurrent `up`s (a script and a test run) would otherwise
    both see Kafka missing and both start it."""
    s.run_dir.mkdir(parents=True, exist_ok=True)
    with open(s.run_dir / "stack.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def _part(name: str) -> Part:
    for p in PARTS:
        if p.name == name:
            return p
    raise StackError(f"unknown component {name!r}; one of {[p.name for p in PARTS]}")


async def _ready_or_died(s: StackSettings, part: Part, timeout: float) -> None:
    """Wait for readiness, but fail at once (with the log tail) if the process exits."""
    comp = part.component(s)
    task = asyncio.create_task(part.ready(s, timeout))
    while not task.done():
        await asyncio.wait({task}, timeout=0.5)
        if not task.done() and procs.our_pid(s, comp) is None:
            task.cancel()
            log = procs.log_file(s, part.name)
            raise StackError(f"{part.name} exited during startup; last lines of {log}:\n"
                             + "".join(procs.tail(log, 25)))
    task.result()


async def up_async(wait: bool = True, timeout: float = 120.0,
                   settings: StackSettings | None = None) -> list[dict]:
    s = settings or StackSettings()
    t0 = time.monotonic()
    for d in (s.state_dir, s.logs_dir, s.run_dir):
        d.mkdir(parents=True, exist_ok=True)
    with _stack_lock(s):
        return await _up_locked(s, wait, timeout, t0)


async def _up_locked(s: StackSettings, wait: bool, timeout: float, t0: float) -> list[dict]:
    to_start = [p for p in PARTS if procs.our_pid(s, p.component(s)) is None]
    for p in to_start:  # fail fast on port clashes, before any slow install/format step
        procs.check_ports_free(s, p.component(s))
    if to_start:
        # Independent and partly slow (apt, mvn, initdb, storage format): run side by side.
        with ThreadPoolExecutor(len(to_start)) as pool:
            for f in [pool.submit(p.prepare, s) for p in to_start]:
                f.result()
    for p in PARTS:
        if p in to_start:
            comp = p.component(s)  # rebuilt: prepare may just have installed binaries
            print(f"  {p.name:9} started   pid {procs.start(s, comp):<7} {comp.address}")
        else:
            print(f"  {p.name:9} running   pid {procs.our_pid(s, p.component(s)):<7}")
    if wait:
        await asyncio.gather(*(_ready_or_died(s, p, timeout) for p in PARTS))
        print(f"stack ready in {time.monotonic() - t0:.1f}s "
              f"(kafka {s.bootstrap_servers()}, postgres {s.host}:{s.pg_port}, "
              f"mail {s.mail_api_url()})")
    else:
        print(f"started in {time.monotonic() - t0:.1f}s without waiting; topics and service "
              "databases are ensured by the next `aftercart stack up`")
    return status(s, quiet=True)


def up(wait: bool = True, timeout: float = 120.0,
       settings: StackSettings | None = None) -> list[dict]:
    """Start (or confirm) the whole stack; with wait=True returns once it is usable."""
    return asyncio.run(up_async(wait, timeout, settings))


def down(settings: StackSettings | None = None) -> None:
    """Stop what `up` started (by pid file); never touches foreign processes."""
    s = settings or StackSettings()
    with _stack_lock(s):
        for p in reversed(PARTS):
            stopped = procs.stop(s, p.component(s))
            print(f"  {p.name:9} {'stopped' if stopped else 'not running'}")


def status(settings: StackSettings | None = None, quiet: bool = False) -> list[dict]:
    s = settings or StackSettings()
    rows = []
    for p in PARTS:
        comp = p.component(s)
        pid = procs.our_pid(s, comp)
        if pid is not None:
            state = "up" if procs.ports_answer(s, comp) else "starting"
        elif any(procs.port_open(s.host, port) for port in comp.ports.values()):
            state = "down (port taken by another process)"
        else:
            state = "down"
        rows.append({"name": p.name, "pid": pid, "address": comp.address, "state": state})
        if not quiet:
            print(f"{p.name:9} {state:6} pid {pid or '-':<7} {comp.address}")
    return rows


def install(settings: StackSettings | None = None) -> None:
    """Install/resolve everything `up` needs (PostgreSQL binaries, Kafka jars)."""
    s = settings or StackSettings()
    postgres.ensure_installed()
    changed = kafka.install_jars(s)
    print(f"kafka jars {'resolved' if changed else 'already present'} in {s.kafka_lib_dir}")


# ---------------------------------------------------------------- CLI
stack_app = typer.Typer(help="Local dev stack: Kafka (KRaft), PostgreSQL, SMTP sink.",
                        no_args_is_help=True)


def _cli(fn: Callable[[], object]) -> None:
    try:
        fn()
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)


@stack_app.command("up")
def up_cmd(wait: bool = typer.Option(True, "--wait/--no-wait",
                                     help="Return only once everything answers."),
           timeout: float = typer.Option(120.0, help="Seconds to wait for readiness.")):
    """Start Kafka, PostgreSQL and the mail sink (no-op for parts already running)."""
    _cli(lambda: up(wait, timeout))


@stack_app.command("down")
def down_cmd():
    """Stop what `up` started. Data under the state dir is kept."""
    _cli(down)


@stack_app.command("status")
def status_cmd():
    """Show each component, its pid, address and state. Exit 1 unless all are up."""
    rows: list[dict] = []
    _cli(lambda: rows.extend(status()))
    if any(r["state"] != "up" for r in rows):
        raise typer.Exit(1)


@stack_app.command("logs")
def logs_cmd(name: Optional[str] = typer.Argument(None, help="kafka | postgres | mailsink"),
             lines: int = typer.Option(40, "-n", "--lines"),
             follow: bool = typer.Option(False, "-f", "--follow")):
    """Tail a component's log (all of them when NAME is omitted)."""
    s = StackSettings()
    if name is None:
        for p in PARTS:
            typer.echo(f"==> {procs.log_file(s, p.name)} <==")
            sys.stdout.write("".join(procs.tail(procs.log_file(s, p.name), lines)))
        return
    _cli(lambda: _part(name))
    path = procs.log_file(s, name)
    if not path.exists():
        typer.echo(f"no log yet: {path}", err=True)
        raise typer.Exit(1)
    if follow:
        procs.follow(path, lines)
    else:
        sys.stdout.write("".join(procs.tail(path, lines)))


@stack_app.command("install")
def install_cmd():
    """Install PostgreSQL (apt) if missing and resolve the Kafka jars (Maven)."""
    _cli(install)
