"""shared/service/serve.py: worker processes that really share connections and stop together; one
worker alone holds its port exclusively; every app gets the serving limits."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ask(port: int) -> int | None:
    """One fresh connection, one request: the pid of the worker that answered."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
    except OSError:
        return None
    return int(data.split(b"\r\n\r\n", 1)[1])


@pytest.fixture
def served():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "shared.service.serve", "tests.support.serve_app:create_app", "--port", str(port),
                             "--workers", "2", "--log-level", "warning"], cwd=ROOT)
    deadline = time.monotonic() + 30
    while _ask(port) is None:
        assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)
    yield proc, port
    if proc.poll() is None:  # stop it the way a supervisor would: SIGTERM reaches the workers too
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _children(pid: int) -> set[int]:
    out = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.add(int(d))
            except (OSError, ValueError, IndexError):
                pass
    return out


def test_connections_reach_both_workers_and_sigterm_stops_all(served):
    proc, port = served
    workers = _children(proc.pid)
    assert len(workers) == 2
    # The fixture saw the first worker answer; the second may still be importing the app (on a
    # busy 2-core machine, seconds). Once both listen, 40 connections all landing on one worker
    # has odds of 2^-39: so ask in rounds of 40 until both answered, or the deadline says they don't share.
    answered: set = set()
    deadline = time.monotonic() + 30
    while answered != workers and time.monotonic() < deadline:
        answered |= {_ask(port) for _ in range(40)} - {None}
        time.sleep(0.2)
    assert answered == workers
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert not any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
                   for w in workers)


def test_a_worker_killed_takes_the_service_down_whole(served):
    proc, port = served
    victim, *rest = sorted(_children(proc.pid))
    os.kill(victim, signal.SIGKILL)
    assert proc.wait(15) == 1  # the supervisor reports the failure instead of limping on half-alive
    for w in rest:
        assert not Path(f"/proc/{w}").exists() or "zombie" in Path(f"/proc/{w}/status").read_text()


def test_workers_do_not_outlive_a_killed_supervisor(served):
    proc, _ = served
    workers = _children(proc.pid)
    proc.kill()  # kill -9: no chance to forward a signal
    proc.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text()
                   for w in workers)


def test_a_port_in_use_is_refused_clearly(served):
    _, port = served
    other = subprocess.run([sys.executable, "-m", "shared.service.serve", "tests.support.serve_app:create_app", "--port", str(port),
                            "--workers", "2"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    # Sockets of the same user with SO_REUSEPORT may share a port; a second *service* must not.
    assert other.returncode != 0 and "Address already in use" in other.stderr


def test_one_worker_alone_holds_its_port_exclusively():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "shared.service.serve", "tests.support.serve_app:create_app",
                             "--port", str(port), "--log-level", "warning"], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while _ask(port) is None:
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        assert _ask(port) == proc.pid  # no supervisor: the process serves itself
        other = subprocess.run([sys.executable, "-m", "shared.service.serve", "tests.support.serve_app:create_app",
                                "--port", str(port)], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert other.returncode == 2 and "Address already in use" in other.stderr
    finally:
        proc.terminate()
        proc.wait(15)


def test_an_app_that_is_not_a_service_gets_the_default_limits(served):
    """The serving layer's head limit (ServingSettings' default, 32 KiB) holds for any app."""
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 431 ") and b'"error":"header_too_large"' in data


def test_pipelined_requests_are_all_answered_under_the_deadlines(served):
    """Requests sent back to back in one write (HTTP/1.1 pipelining) are answered in order, the
    last one too, and the connection then waits for more like any keep-alive connection."""
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 3 + b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        data = b""
        while data.count(b"HTTP/1.1 200 OK") < 4:
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        while chunk := s.recv(4096):
            data += chunk
    assert data.count(b"HTTP/1.1 200 OK") == 5
