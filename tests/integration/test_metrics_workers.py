"""Prometheus figures across worker processes (shared/service/serve.py --workers 2, issue 15 point 6):
whichever worker answers a scrape, it counts every worker's requests; a livesum gauge counts the
live workers; an earlier run's files in the directory don't count; one worker runs as before."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.service.serve import metrics_dir

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.support.serve_app:create_app"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[dict[str, str], bytes] | None:
    """One fresh connection (so the kernel picks a worker anew), one request: headers and body."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return None
    head, body = data.split(b"\r\n\r\n", 1)
    headers = dict(line.decode().lower().split(": ", 1) for line in head.split(b"\r\n")[1:])
    return headers, body


def _value(exposition: bytes, name: str) -> float:
    m = re.search(rf"^{name} (\S+)$", exposition.decode(), re.M)
    assert m, exposition.decode()
    return float(m.group(1))


def _pids_answering(port: int, n: int) -> set[int]:
    return {int(r[1]) for r in (_get(port, "/") for _ in range(n)) if r is not None}


def _start(port: int, workers: int, base: Path) -> subprocess.Popen:
    env = {**os.environ, "AFTERCART_METRICS_DIR": str(base)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "shared.service.serve", APP, "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning"], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    seen: set[int] = set()
    # Every worker listening: on a busy 2-core machine the second may import for seconds.
    while len(seen) < workers:
        assert proc.poll() is None and time.monotonic() < deadline, "workers did not start"
        seen |= _pids_answering(port, 20)
        time.sleep(0.1)
    return proc


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _stale_run(directory: Path) -> None:
    """Files an earlier run left: another (now gone) process counted 1000 hits and 5 workers."""
    directory.mkdir(parents=True, exist_ok=True)
    code = ("from prometheus_client import Counter, Gauge\n"
            "Counter('serve_app_hits_total', 'x').inc(1000)\n"
            "Gauge('serve_app_workers', 'x', multiprocess_mode='livesum').inc(5)\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)})
    assert any(directory.glob("counter_*.db")) and any(directory.glob("gauge_livesum_*.db"))


def test_every_scrape_counts_both_workers_requests_and_a_stale_run_does_not_count(tmp_path):
    port = _free_port()
    directory = metrics_dir(APP, port, str(tmp_path))
    _stale_run(directory)
    proc = _start(port, 2, tmp_path)
    try:
        n = 0
        for _round in range(3):  # requests over both workers, then several scrapes, a few times over
            served: set[int] = set()
            for _ in range(40):
                r = _get(port, "/hit")
                assert r is not None
                served.add(int(r[1]))
                n += 1
            assert len(served) == 2  # 40 fresh connections all on one worker: odds of 2^-39
            scrapers: set[int] = set()
            scrapes = 0
            while len(scrapers) < 2 or scrapes < 6:
                assert scrapes < 60, "one worker answered every scrape"
                headers, body = _get(port, "/metrics")
                scrapers.add(int(headers["x-pid"]))
                scrapes += 1
                assert _value(body, "serve_app_hits_total") == n  # whichever worker answers
                assert _value(body, "serve_app_workers") == 2  # the live workers, not the stale run's 5
        assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") != str(directory)  # the test's own process untouched
    finally:
        _stop(proc)
    assert proc.returncode == 0
    # Exited workers are marked dead: their live gauges are gone, their counters stay until the next start.
    assert not list(directory.glob("gauge_live*.db"))
    assert list(directory.glob("counter_*.db"))


def test_a_restart_starts_from_zero(tmp_path):
    port = _free_port()
    for _run in range(2):
        proc = _start(port, 2, tmp_path)
        try:
            for _ in range(10):
                assert _get(port, "/hit") is not None
            _, body = _get(port, "/metrics")
            assert _value(body, "serve_app_hits_total") == 10
        finally:
            _stop(proc)


def test_one_worker_keeps_in_process_metrics(tmp_path):
    port = _free_port()
    proc = _start(port, 1, tmp_path)
    try:
        for _ in range(7):
            assert _get(port, "/hit") is not None
        headers, body = _get(port, "/metrics")
        assert int(headers["x-pid"]) == proc.pid  # no supervisor
        assert _value(body, "serve_app_hits_total") == 7
        assert _value(body, "serve_app_workers") == 1
        assert b"process_cpu_seconds_total" in body  # the default registry's process collector: in-process mode
    finally:
        _stop(proc)
    assert not metrics_dir(APP, port, str(tmp_path)).exists()  # no multiprocess directory made


def test_every_service_metric_combines_across_two_processes(tmp_path):
    """Each of the services' metrics objects, built in two processes sharing one directory as two
    workers would: counters add up, a shared figure (the outbox depth) is the latest one measured,
    not a sum, and reachability is up only if every live worker reaches it."""
    code = """
import sys
from shared.metrics import consumer_metrics, dependency_metrics, relay_metrics
from services.ingest.metrics import ingest_metrics
from services.notifier.metrics import notifier_metrics
consumer_metrics('svc').events.labels('order.created', 'ok').inc()
r = relay_metrics('svc'); r.depth.set(int(sys.argv[1])); r.published.labels('order.created').inc(3)
dependency_metrics('svc').up.labels('kafka').set(int(sys.argv[2]))
ingest_metrics().deliveries.labels('order.created', 'stored').inc(); ingest_metrics().webhooks_disabled.labels('s1').set(1)
notifier_metrics().send_attempts.labels('sent').inc()
"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code, "7", "1"], check=True, cwd=ROOT, env=env)
    subprocess.run([sys.executable, "-c", code, "5", "0"], check=True, cwd=ROOT, env=env)
    out = subprocess.run([sys.executable, "-c", "import sys; from shared.metrics import render_metrics;"
                          " sys.stdout.write(render_metrics().decode())"],
                         check=True, cwd=ROOT, env=env, capture_output=True).stdout
    assert _value(out, re.escape('svc_events_consumed_total{outcome="ok",type="order.created"}')) == 2
    assert _value(out, re.escape('svc_outbox_published_total{type="order.created"}')) == 6
    assert _value(out, "svc_outbox_depth") == 5  # the latest measure of the one outbox
    assert _value(out, re.escape('ingest_deliveries_total{outcome="stored",topic="order.created"}')) == 2
    assert _value(out, re.escape('ingest_webhooks_disabled{store="s1"}')) == 1
    assert _value(out, re.escape('notifier_send_attempts_total{outcome="sent"}')) == 2
    # "livemin" over two exited processes that were never marked dead: the lower (one saw it down).
    assert _value(out, re.escape('svc_dependency_up{dependency="kafka"}')) == 0
    assert b'pid="' not in out  # no gauge left in the per-process "all" mode
