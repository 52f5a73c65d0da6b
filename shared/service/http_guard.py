"""Per-connection limits uvicorn lacks, on its httptools protocol (shared/service/serve.py serves
every service with it).

uvicorn closes a keep-alive connection left idle after a response, and nothing else: a connection
that never sends a byte, sends its head a byte at a time, or stops in the middle of its body is
held for ever (a descriptor and a buffer each), and httptools buffers a header of any length. Here
every connection is always under exactly one deadline, by phase:

- idle: a request must begin within `keep_alive_s` of the connection opening or of the previous
  answer (blank lines don't count as a beginning);
- head: its request line and headers must be complete within `header_timeout_s` of its first byte,
  and no longer than `max_header_bytes` (else 431, then the connection closes);
- body: its body must be complete within `body_timeout_s` of the end of its head;
- while the app works on a request there is no deadline here (the app answers, or the client goes).

A connection past its deadline is closed; `<service>_http_connections_closed_total{reason}` counts
them (idle, slow_head, slow_body, head_too_large). Nothing is logged per connection: under attack
that would be a flood.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache

from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# After a 431 the client's remaining bytes are read and dropped this long, so it can read the
# answer before the connection closes (closing with unread bytes makes the kernel send a reset).
LINGER_S = 1.0

_IDLE, _HEAD, _BODY, _APP, _REFUSED = "idle", "head", "body", "app", "refused"


@dataclass(frozen=True)
class ConnectionLimits:
    keep_alive_s: float = 5.0
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_header_bytes: int = 32_768


@lru_cache(maxsize=None)
def closed_connections(service: str) -> Counter:
    return Counter(f"{service}_http_connections_closed_total",
                   "Connections the server closed at a deadline or for an oversized head", ["reason"])


def guarded_httptools(limits: ConnectionLimits, service: str = "http") -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol under `limits` (pass it as uvicorn.Config(http=…))."""
    counter = closed_connections(service)
    return type("GuardedHttpTools", (_GuardedHttpTools,), {"limits": limits, "closed": counter})


def _refusal(max_header_bytes: int) -> bytes:
    body = (b'{"error":"header_too_large","message":"the request line and headers are over %d bytes"}'
            % max_header_bytes)
    return (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))


class _GuardedHttpTools(HttpToolsProtocol):
    limits: ConnectionLimits
    closed: Counter

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._phase = _IDLE
        self._due: float | None = None  # when the current phase's deadline passes (loop time)
        self._reason = ""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._begun = 0  # requests begun on this connection
        self._head_buffered = 0  # bytes of chunks wholly inside the current, incomplete head
        self._head_bound = 0  # at least as many bytes as the current head has so far
        self._chunk = 0  # size of the chunk being parsed

    # --- deadlines ---------------------------------------------------------------------------
    # One timer per connection, moved lazily: most phase changes push the deadline later, which
    # costs no timer at all (the timer, when it fires early, sets itself again for what is left).

    def _enter(self, phase: str, seconds: float | None = None, reason: str = "") -> None:
        self._phase, self._reason = phase, reason
        if seconds is None:
            self._due = None
            return
        self._due = due = self.loop.time() + seconds
        if self._timer is None or due < self._timer_at:
            self._arm(due)

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._check)

    def _check(self) -> None:
        self._timer = None
        if self._due is None or self.transport.is_closing():
            return
        if self.loop.time() < self._due:
            self._arm(self._due)
            return
        if self._phase == _REFUSED:
            self.transport.close()
        else:
            self.closed.labels(self._reason).inc()
            self.transport.close()

    def _refuse_head(self) -> None:
        self.closed.labels("head_too_large").inc()
        self.transport.write(_refusal(self.limits.max_header_bytes))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self._enter(_REFUSED, LINGER_S)

    def _head_size(self) -> int:
        return len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)  # ": " and CRLF

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._enter(_IDLE, self.limits.keep_alive_s, "idle")

    def connection_lost(self, exc: Exception | None) -> None:
        self._phase, self._due = _REFUSED, None  # nothing more is parsed or timed
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        phase = self._phase
        if phase == _REFUSED:
            return  # answered already: drop what the client still sends
        begun = self._begun
        self._chunk = len(data)
        super().data_received(data)
        if self._phase != _HEAD:
            return
        # httptools keeps a header that isn't complete in its own buffer, whatever its length: so
        # count what arrives while one head stays incomplete (exactly when all of `data` is its).
        self._head_bound += len(data)
        if (phase == _HEAD and self._begun == begun) or (phase == _IDLE and self._begun == begun + 1):
            self._head_buffered += len(data)
            if self._head_buffered > self.limits.max_header_bytes:
                self._refuse_head()

    # --- parser callbacks --------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._phase == _REFUSED:
            return
        self._begun += 1
        self._head_buffered = self._head_bound = 0
        self._enter(_HEAD, self.limits.header_timeout_s, "slow_head")
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        if self._phase == _REFUSED:
            return
        # The head is within what arrived while it was incomplete plus this chunk: only a head
        # that could be over the limit is measured exactly.
        if (self._head_bound + self._chunk > self.limits.max_header_bytes
                and self._head_size() > self.limits.max_header_bytes):
            self._refuse_head()  # before uvicorn builds the request: the app never sees it
            return
        super().on_headers_complete()
        if self.parser.should_upgrade():
            self._enter(_APP)  # handed to another protocol: not ours to time
        else:
            self._enter(_BODY, self.limits.body_timeout_s, "slow_body")

    def on_body(self, body: bytes) -> None:
        if self._phase != _REFUSED:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._phase == _REFUSED:
            return
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete:
            self._enter(_IDLE, self.limits.keep_alive_s, "idle")  # answered before its body ended
        else:
            self._enter(_APP)

    def on_response_complete(self) -> None:
        queued = bool(self.pipeline)  # a pipelined request starts now instead of an idle wait
        super().on_response_complete()
        if self._phase == _APP and not queued and not self.transport.is_closing():
            self._enter(_IDLE, self.limits.keep_alive_s, "idle")
