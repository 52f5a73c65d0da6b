"""Serve an ASGI app factory with N worker processes that really share the load.

    python -m shared.service.serve services.ingest.entrypoints.api:create_app --port 8001 --workers 2

uvicorn's own `--workers` has every worker accept from one shared socket: whichever process wakes
first takes every connection waiting, so a burst of keep-alive connections (32 stores opening
theirs at once) can land on one worker while the other idles (measured: 32 of 32, bench/README).
Here each worker binds its own socket with SO_REUSEPORT and the kernel spreads connections over
them by address hash. Same uvicorn inside (uvloop, httptools, no access log).

One configuration for every way a service is run (`aftercart services up`, the e2e tests, the
benchmark, a deployment): uvicorn with the service's serving settings (shared/service/settings.py's
ServingSettings, under the service's prefix, e.g. AFTERCART_INGEST_HTTP_HEADER_TIMEOUT_S) — idle,
header and body deadlines and a header size limit per connection (shared/service/http_guard.py),
a concurrency limit and the listen backlog per worker. With one worker (the default) the process
serves alone and its socket is exclusive: a port already in use is an error, not a shared port.

The parent only supervises: it forwards SIGTERM/SIGINT to the workers and exits when they have;
if one worker dies the others are stopped too, so whoever runs the service sees it go down and
restarts it whole (a half-alive service would hide the fault).

Metrics across workers: with more than one worker the parent gives them prometheus-client's
multiprocess mode — PROMETHEUS_MULTIPROC_DIR set to a directory of this service alone
(`metrics_dir`: under AFTERCART_METRICS_DIR, default `<tempdir>/aftercart-metrics`, one
subdirectory per app and port), emptied before the workers start so an earlier run's figures never
count; /metrics (shared/metrics.py's `render_metrics`) then sums every worker's files, whichever
worker answers the scrape, and the parent marks a worker that exits dead (its live gauges drop out).
One worker alone runs exactly as before: in-process metrics, no directory.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METRICS_DIR_ENV = "AFTERCART_METRICS_DIR"


def metrics_dir(app: str, port: int, base: str | None = None) -> Path:
    """The multiprocess metrics directory of the service `app` served on `port`."""
    root = base or os.environ.get(METRICS_DIR_ENV) or os.path.join(tempfile.gettempdir(), "aftercart-metrics")
    return Path(root) / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', app)}-{port}"


def _fresh_metrics_dir(path: Path) -> None:
    """Empty (or create) `path`: figures of an earlier run, whose workers are gone, must not count."""
    if path.is_dir():
        shutil.rmtree(path)
    path.mkdir(parents=True, mode=0o700)


def _socket(host: str, port: int, share: bool = True) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    """Linux: SIGTERM this worker when its supervisor dies, even by kill -9, so no orphan keeps
    serving (and holding the port) behind the back of whoever restarts the service."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the supervisor's signal forwarding still holds
        pass


def uvicorn_config(app, host: str, port: int, log_level: str):
    """uvicorn's configuration for `app`: the serving settings it carries (a service built by
    shared/service/app.py), else the defaults."""
    import uvicorn

    from shared.service.http_guard import ConnectionLimits, guarded_httptools
    from shared.service.settings import ServingSettings

    s = getattr(app, "settings", None)
    if not isinstance(s, ServingSettings):
        s = ServingSettings.model_construct()  # the declared defaults, not this process's environment
    limits = ConnectionLimits(keep_alive_s=s.http_keep_alive_s, header_timeout_s=s.http_header_timeout_s,
                              body_timeout_s=s.http_body_timeout_s, max_header_bytes=s.http_max_header_bytes)
    return uvicorn.Config(app, host=host, port=port, loop="uvloop",
                          http=guarded_httptools(limits, getattr(app, "service_name", "http")),
                          access_log=False, log_level=log_level, timeout_keep_alive=s.http_keep_alive_s,
                          limit_concurrency=s.http_limit_concurrency, backlog=s.http_backlog,
                          h11_max_incomplete_event_size=s.http_max_header_bytes)


def _worker(args: argparse.Namespace) -> int:
    import uvicorn
    from uvicorn.importer import import_from_string

    if args.worker:
        _die_with_parent()
    try:  # bound before the app is built, so a taken port fails at once and clearly
        sock = _socket(args.host, args.port, share=args.worker)
    except OSError as exc:
        print(f"shared.service.serve: {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    app = import_from_string(args.app)()
    uvicorn.Server(uvicorn_config(app, args.host, args.port, args.log_level)).run(sockets=[sock])
    return 0


def _supervise(args: argparse.Namespace) -> int:
    # A socket *without* SO_REUSEPORT can't bind while anything listens there, even another
    # service of ours that shares its port with its own workers: fail early and clearly.
    try:
        probe = _socket(args.host, args.port, share=False)
    except OSError as exc:
        print(f"shared.service.serve: {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    probe.close()
    argv = [sys.executable, "-m", "shared.service.serve", args.app, "--host", args.host, "--port", str(args.port),
            "--log-level", args.log_level, "--worker"]
    mdir = metrics_dir(args.app, args.port)
    try:
        _fresh_metrics_dir(mdir)
    except OSError as exc:
        print(f"shared.service.serve: metrics directory {mdir}: {exc.strerror}", file=sys.stderr)
        return 2
    # Set before the workers' first import of prometheus_client, which picks its value class then.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(mdir)}
    children = [subprocess.Popen(argv, env=env) for _ in range(args.workers)]
    marked: set[int] = set()
    stopping = failed = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for c in children:
            if c.poll() is None:
                c.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while any(c.poll() is None for c in children):
        _mark_dead(children, marked, mdir)
        if not stopping and any(c.poll() is not None for c in children):
            failed = True
            stop(signal.SIGTERM, None)  # one worker died: take the service down whole
        time.sleep(0.2)
    _mark_dead(children, marked, mdir)
    return 1 if failed else 0


def _mark_dead(children: list[subprocess.Popen], marked: set[int], mdir: Path) -> None:
    """A worker that exited: its live gauges (livesum, livemax, …) stop counting."""
    for c in children:
        if c.returncode is not None and c.pid not in marked:
            marked.add(c.pid)
            from prometheus_client import multiprocess

            try:
                multiprocess.mark_process_dead(c.pid, str(mdir))
            except OSError:
                pass


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("app", help="module:factory returning an ASGI app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="info")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker or args.workers <= 1:
        return _worker(args)
    return _supervise(args)


if __name__ == "__main__":
    sys.exit(main())
