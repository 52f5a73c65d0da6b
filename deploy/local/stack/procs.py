"""Detached-process bookkeeping for the local stack: start, identify, stop, tail logs.

Each component runs in its own session (so Ctrl-C in the terminal that ran `stack up` does
not kill it), logs stdout+stderr to <state_dir>/logs/<name>.log and has its pid in
<state_dir>/run/<name>.pid. A pid only counts as "ours" if that process is alive and its
command line contains the component's marker: after a reboot a stale pid file may point at
an unrelated process, which we must never signal.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from deploy.local.stack.config import StackSettings

ENV_PREFIX = "AFTERCART_STACK_"


class StackError(RuntimeError):
    """A problem the user has to fix (port clash, missing tool, crashed component)."""


@dataclass
class Component:
    name: str
    argv: list[str]
    marker: str  # substring of /proc/<pid>/cmdline that identifies our process
    ports: dict[str, int]  # settings field name -> port; all must answer when up
    address: str
    user: str | None = None  # run as this OS user (postgres refuses to run as root)
    cwd: Path | None = None
    env: dict[str, str] | None = None
    stop: Callable[[int], None] | None = None  # graceful stopper; falls back to signals
    stop_timeout: float = 30.0
    extra: dict = field(default_factory=dict)


# Popen objects of children started by this Python process: kept so they are not
# garbage-collected with a ResourceWarning, and so we can reap them (no zombies in tests).
_children: dict[int, subprocess.Popen] = {}


def pid_file(s: StackSettings, name: str) -> Path:
    return s.run_dir / f"{name}.pid"


def log_file(s: StackSettings, name: str) -> Path:
    return s.logs_dir / f"{name}.log"


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None  # also reaps it
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def our_pid(s: StackSettings, comp: Component) -> int | None:
    """Pid of the running process `up` started for comp, else None (stale files removed)."""
    path = pid_file(s, comp.name)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    if _alive(pid) and comp.marker in _cmdline(pid):
        return pid
    path.unlink(missing_ok=True)
    return None


def ports_answer(s: StackSettings, comp: Component) -> bool:
    return all(port_open(s.host, p) for p in comp.ports.values())


def check_ports_free(s: StackSettings, comp: Component) -> None:
    for key, port in comp.ports.items():
        if port_open(s.host, port):
            raise StackError(
                f"port {port} ({comp.name}) is already in use by another process; "
                f"set {ENV_PREFIX}{key.upper()} to use another port")


def start(s: StackSettings, comp: Component) -> int:
    s.logs_dir.mkdir(parents=True, exist_ok=True)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    check_ports_free(s, comp)
    log = open(log_file(s, comp.name), "ab")
    log.write(f"\n===== aftercart stack: starting {comp.name} at {time.strftime('%F %T')}: "
              f"{' '.join(comp.argv)}\n".encode())
    log.flush()
    kwargs: dict = {}
    if comp.user and os.geteuid() == 0:
        # Drop root's supplementary groups too, not just uid/gid.
        kwargs.update(user=comp.user, group=comp.user, extra_groups=[])
    try:
        proc = subprocess.Popen(
            comp.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=comp.cwd, env=comp.env, start_new_session=True, close_fds=True, **kwargs)
    finally:
        log.close()
    _children[proc.pid] = proc
    pid_file(s, comp.name).write_text(f"{proc.pid}\n")
    return proc.pid


def stop(s: StackSettings, comp: Component) -> bool:
    """Stop comp if `up` started it. Returns True if something was stopped."""
    pid = our_pid(s, comp)
    if pid is None:
        return False
    if comp.stop is not None:
        try:
            comp.stop(pid)
        except Exception as exc:  # fall back to signals below
            print(f"  {comp.name}: graceful stop failed ({exc}); signalling")
    if not _wait_gone(pid, 5 if comp.stop is not None else 0):
        _signal_group(pid, signal.SIGTERM)
        if not _wait_gone(pid, comp.stop_timeout):
            print(f"  {comp.name}: still alive after {comp.stop_timeout:.0f}s; SIGKILL")
            _signal_group(pid, signal.SIGKILL)
            _wait_gone(pid, 10)
    pid_file(s, comp.name).unlink(missing_ok=True)
    _children.pop(pid, None)
    return True


def _signal_group(pid: int, sig: int) -> None:
    # start_new_session made pid a process-group leader: signal helpers it spawned too.
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def tail(path: Path, lines: int = 40) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return list(deque(f, maxlen=lines))
    except FileNotFoundError:
        return []


def follow(path: Path, lines: int = 40) -> None:
    """`tail -f`: print the last lines, then new ones until Ctrl-C."""
    print("".join(tail(path, lines)), end="", flush=True)
    with open(path, errors="replace") as f:
        f.seek(0, os.SEEK_END)
        try:
            while True:
                chunk = f.read()
                if chunk:
                    print(chunk, end="", flush=True)
                else:
                    time.sleep(0.3)
        except KeyboardInterrupt:
            pass
