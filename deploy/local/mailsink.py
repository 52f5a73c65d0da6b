"""SMTP sink for the local stack: accepts every message, keeps it, shows it over HTTP.

Run as `python -m deploy.local.mailsink` (the stack runner does). One asyncio loop serves
  * SMTP on <host>:<smtp_port> (aiosmtpd, no auth/TLS): each accepted message is written to
    <state_dir>/mail/<ns-timestamp>-<rand>.eml (sortable by arrival, survives restarts), with
    the SMTP envelope kept as X-Aftercart-Envelope-* headers on top of the original bytes;
  * HTTP on <host>:<mail_http_port>: `GET /` (HTML list), `GET /messages/{id}`, and the JSON
    API `GET /api/messages?to=&since=`, `GET /api/messages/{id}`, `GET /api/messages/{id}/raw`,
    `DELETE /api/messages`, `GET|POST /api/faults`, `GET /api/health`.
Fault injection: POST /api/faults {"refuse_next": N, "code": 451} answers the next N RCPT TO
commands with that code, so tests can prove a refusing SMTP server loses nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import html
import os
import re
import secrets
import threading
import time
from datetime import datetime, timezone
from email.utils import getaddresses
from pathlib import Path

from pydantic import BaseModel, Field

ENVELOPE_FROM = "X-Aftercart-Envelope-From"
ENVELOPE_TO = "X-Aftercart-Envelope-To"
RECEIVED_AT = "X-Aftercart-Received-At"
_ENVELOPE_HEADERS = {h.lower() for h in (ENVELOPE_FROM, ENVELOPE_TO, RECEIVED_AT)}


# ---------------------------------------------------------------- storage (shared with the CLI)
class MailStore:
    """One .eml file per message in a directory; ids are the file stems.

    Durable without an fsync per message (the sink's ceiling was the disk's fsync rate, ~60/s on
    a busy disk): `save_many` appends a whole group of messages to a journal (`.journal-N`) and
    fsyncs it once, and only then writes their .eml files (temp file + rename, so readers never
    see half a message). A crash after the journal's fsync loses nothing: `recover` (at start)
    writes any message the journal has and the directory hasn't. Every `checkpoint_bytes` the
    journal rotates, and a background sync makes the older one's .eml files durable before it
    is deleted."""

    checkpoint_bytes = 64 << 20

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        # Messages never change once stored: parse each file once (the list is read often).
        self._parsed: dict[str, dict] = {}
        self._journal = None
        self._journal_no = 0
        self._journal_size = 0

    def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        """Store one message durably (see save_many); its id."""
        return self.save_many([(raw, mail_from, rcpt_tos)])[0]

    def save_many(self, batch: list[tuple[bytes, str, list[str]]]) -> list[str]:
        """Store a group of messages durably before any of them is acknowledged; their ids."""
        self.dir.mkdir(parents=True, exist_ok=True)
        now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        entries: list[tuple[str, bytes]] = []
        for raw, mail_from, rcpt_tos in batch:
            msg_id = f"{time.time_ns():020d}-{secrets.token_hex(3)}"
            head = (f"{ENVELOPE_FROM}: <{mail_from}>\r\n{ENVELOPE_TO}: "
                    f"{', '.join(f'<{r}>' for r in rcpt_tos)}\r\n{RECEIVED_AT}: {now}\r\n")
            entries.append((msg_id, head.encode() + raw))
        journal = self._open_journal()
        journal.write(b"".join(f"{msg_id} {len(data)}\n".encode() + data for msg_id, data in entries))
        journal.flush()
        os.fsync(journal.fileno())  # "accepted" must mean "on disk": a 250 is a promise
        self._journal_size += sum(len(d) for _, d in entries)
        for msg_id, data in entries:
            self._write_eml(msg_id, data)
        if self._journal_size > self.checkpoint_bytes:
            self._rotate()
        return [msg_id for msg_id, _ in entries]

    def recover(self) -> int:
        """Write the messages of any journal left by an earlier run whose .eml is missing, make them
        durable, delete the journals; how many were restored."""
        restored = 0
        for path in sorted(self.dir.glob(".journal-*")) if self.dir.exists() else []:
            data, pos = path.read_bytes(), 0
            while (nl := data.find(b"\n", pos)) != -1:
                try:
                    msg_id, size = data[pos:nl].decode().split(" ")
                    body = data[nl + 1:nl + 1 + int(size)]
                except ValueError:
                    break  # a torn last record: never acknowledged
                if len(body) < int(size):
                    break
                if not (self.dir / f"{msg_id}.eml").exists():
                    self._write_eml(msg_id, body)
                    restored += 1
                pos = nl + 1 + int(size)
            os.sync()
            path.unlink()
        return restored

    def _write_eml(self, msg_id: str, data: bytes) -> None:
        tmp = self.dir / f".{msg_id}.tmp"
        tmp.write_bytes(data)
        tmp.rename(self.dir / f"{msg_id}.eml")  # readers never see half a message

    def _open_journal(self):
        if self._journal is None:
            self._journal_no += 1
            path = self.dir / f".journal-{time.time_ns():020d}-{self._journal_no}"
            self._journal = open(path, "ab")
            fd = os.open(self.dir, os.O_RDONLY)  # the journal's own name must survive a crash
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return self._journal

    def _rotate(self) -> None:
        old, self._journal, self._journal_size = self._journal, None, 0
        old.close()

        def checkpoint() -> None:  # the old journal's .eml files are on disk once sync returns
            os.sync()
            Path(old.name).unlink(missing_ok=True)

        threading.Thread(target=checkpoint, daemon=True).start()

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self.dir.glob("*.eml")) if self.dir.exists() else []

    def raw(self, msg_id: str) -> bytes | None:
        if "/" in msg_id or msg_id.startswith("."):
            return None
        try:
            return (self.dir / f"{msg_id}.eml").read_bytes()
        except FileNotFoundError:
            return None

    def get(self, msg_id: str) -> dict | None:
        if msg_id in self._parsed:
            return self._parsed[msg_id]
        raw = self.raw(msg_id)
        if raw is None:
            return None
        self._parsed[msg_id] = parsed = parse(msg_id, raw)
        return parsed

    def messages(self, to: str | None = None, since: str | None = None) -> list[dict]:
        """Every message (oldest first), or those to `to`, or only those that arrived after the
        message `since` (ids sort by arrival: a poller asks for what is new)."""
        ids = [i for i in self.ids() if i > since] if since else self.ids()
        if not to:
            return [m for i in ids if (m := self.get(i)) is not None]
        to = to.strip().lower()
        out = []
        for i in ids:
            if i not in self._parsed:
                # Reading bytes is cheap, parsing MIME is not: parse only the files that can match.
                raw = self.raw(i)
                if raw is None or to.encode() not in raw.lower():
                    continue
            m = self.get(i)
            if m is not None and to in m["_addresses"]:
                out.append(m)
        return out

    def clear(self) -> int:
        ids = self.ids()
        for i in ids:
            (self.dir / f"{i}.eml").unlink(missing_ok=True)
        self._parsed.clear()
        return len(ids)


def _strip(addr: str) -> str:
    return addr.strip().strip("<>").strip()


def parse(msg_id: str, raw: bytes) -> dict:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    headers: dict[str, str] = {}
    for key in dict.fromkeys(msg.keys()):  # unique, in order
        if key.lower() not in _ENVELOPE_HEADERS:
            headers[key] = ", ".join(str(v) for v in msg.get_all(key, []))
    rcpts = [_strip(r) for r in str(msg.get(ENVELOPE_TO, "")).split(",") if _strip(r)]

    def body(kind: str) -> str | None:
        part = msg.get_body(preferencelist=(kind,))
        # Stored bytes keep SMTP's CRLF; callers compare against what they sent (LF).
        return part.get_content().replace("\r\n", "\n") if part is not None else None

    shown = {a.lower() for a in rcpts}
    for h in ("to", "cc"):
        shown |= {a.lower() for _, a in getaddresses([str(v) for v in msg.get_all(h, [])]) if a}
    return {
        "id": msg_id,
        "received_at": str(msg.get(RECEIVED_AT, "")),
        "mail_from": _strip(str(msg.get(ENVELOPE_FROM, ""))),
        "rcpt_tos": rcpts,
        "subject": str(msg.get("subject", "")),
        "message_id": str(msg.get("message-id", "")),
        "headers": headers,
        "text": body("plain"),
        "html": body("html"),
        "_addresses": shown,  # for ?to= filtering; dropped before JSON
    }


def public(m: dict) -> dict:
    return {k: v for k, v in m.items() if not k.startswith("_")}


# ---------------------------------------------------------------- SMTP
class Faults(BaseModel):
    refuse_next: int = Field(0, ge=0)
    code: int = Field(451, ge=400, le=599)
    # Once this many messages were accepted (counted from when the fault is set), every further
    # DATA is held unanswered and NOT stored until the fault is cleared, then refused with 451:
    # a crash test's "in flight at the relay, never accepted".
    hold_after: int | None = Field(None, ge=0)


class MailWriter:
    """Writes what the SMTP sessions accept in groups, on one thread: a message waits at most for
    the group being written before its own (fsync costs the same for one file as for a group)."""

    def __init__(self, store: MailStore) -> None:
        self.store = store
        self._queue: list[tuple[tuple[bytes, str, list[str]], asyncio.Future]] = []
        self._busy = False

    async def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        fut = asyncio.get_running_loop().create_future()
        self._queue.append(((raw, mail_from, rcpt_tos), fut))
        if not self._busy:
            self._busy = True
            asyncio.get_running_loop().create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue, []
                try:
                    ids = await asyncio.to_thread(self.store.save_many, [item for item, _ in group])
                except Exception as exc:  # disk full…: those messages are refused, not acknowledged
                    for _, fut in group:
                        fut.set_exception(exc)
                    continue
                for (_, fut), msg_id in zip(group, ids):
                    fut.set_result(msg_id)
        finally:
            self._busy = False


class Handler:
    """aiosmtpd handler: store on DATA, refuse RCPT while a fault is armed."""

    def __init__(self, store: MailStore):
        self.store = store
        self.writer = MailWriter(store)
        self.faults = Faults()
        self.accepted = 0  # since the faults were last set
        self.released = asyncio.Event()

    def set_faults(self, faults: Faults) -> None:
        self.faults, self.accepted = faults, 0
        self.released.set()  # whatever was held is let go (and refused)
        self.released = asyncio.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.faults.refuse_next > 0:
            self.faults.refuse_next -= 1
            kind = "4.3.0 Temporary" if self.faults.code < 500 else "5.7.1 Permanent"
            return f"{self.faults.code} {kind} failure injected by aftercart mailsink"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.faults.hold_after is not None and self.accepted >= self.faults.hold_after:
            await self.released.wait()
            return "451 4.3.0 Held by aftercart mailsink fault injection, not stored"
        self.accepted += 1  # counted on arrival: sessions saving at once don't all slip under hold_after
        raw = envelope.original_content or envelope.content
        # Written by the writer's thread (fsync): never stalls other SMTP sessions or the HTTP API.
        msg_id = await self.writer.save(raw, envelope.mail_from or "", list(envelope.rcpt_tos))
        return f"250 Message accepted as {msg_id}"


_PLAIN_ADDRESS = re.compile(r"\s*<([A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*@[A-Za-z0-9.-]+|)>(.*)\Z")


def fast_smtp_class():
    """aiosmtpd's SMTP session, reading DATA in large pieces: aiosmtpd reads and checks it line by
    line (a 20 kB email is ~300 awaits, and its 1 kB stream limit pauses the socket every 2 kB) —
    about 3 ms of CPU a message, a ceiling near 300 emails/s on a whole core. Everything else
    (commands, envelope, hooks) is aiosmtpd's own."""
    from aiosmtpd.smtp import SMTP, syntax

    class FastSMTP(SMTP):
        line_length_limit = 1 << 20  # the stream's buffer limit too (commands keep command_size_limit)

        def _getaddr(self, arg: str):
            # aiosmtpd defines a typing.Protocol class inside every call (a third of its CPU per
            # message): a plain <address> is read here, anything unusual by aiosmtpd's parser.
            if (m := _PLAIN_ADDRESS.match(arg or "")) is None:
                return super()._getaddr(arg)
            return m.group(1), m.group(2)

        @syntax("DATA")
        async def smtp_DATA(self, arg: str) -> None:
            if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
                return
            if not self.envelope.rcpt_tos:
                await self.push("503 Error: need RCPT command")
                return
            if arg:
                await self.push("501 Syntax: DATA")
                return
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            data = bytearray()
            while True:  # until "\r\n.\r\n" (or a lone "." right away: an empty message)
                try:
                    data += await self._reader.readuntil(b".\r\n")
                except asyncio.LimitOverrunError as exc:
                    data += await self._reader.readexactly(exc.consumed)
                    continue
                if data == b".\r\n" or data.endswith(b"\r\n.\r\n"):
                    break
            if self.data_size_limit and len(data) > self.data_size_limit:
                self._set_post_data_state()
                await self.push("552 Error: Too much mail data")
                return
            # Undo SMTP's dot-stuffing (RFC 5321 4.5.2): a line's leading "." was doubled.
            body = bytes(data[:-3])
            body = (body[1:] if body.startswith(b"..") else body).replace(b"\r\n..", b"\r\n.")
            self.envelope.content = self.envelope.original_content = body
            status = await self._call_handler_hook("DATA")
            self._set_post_data_state()
            await self.push(status if isinstance(status, str) else "250 OK")

    return FastSMTP


# ---------------------------------------------------------------- HTTP
def make_app(store: MailStore, handler: Handler):
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import HTMLResponse, Response

    app = FastAPI(title="Aftercart mail sink")

    def one(msg_id: str) -> dict:
        m = store.get(msg_id)
        if m is None:
            raise HTTPException(404, f"no message {msg_id}")
        return m

    @app.get("/api/health")
    def health() -> dict:
        return {"ok": True, "messages": len(store.ids())}

    @app.get("/api/messages")
    def list_messages(to: str | None = None, since: str | None = None) -> list[dict]:
        return [public(m) for m in store.messages(to, since)]

    @app.get("/api/messages/{msg_id}")
    def get_message(msg_id: str) -> dict:
        return public(one(msg_id))

    @app.get("/api/messages/{msg_id}/raw")
    def raw_message(msg_id: str) -> Response:
        one(msg_id)
        return Response(store.raw(msg_id), media_type="message/rfc822")

    @app.delete("/api/messages")
    def clear() -> dict:
        return {"deleted": store.clear()}

    @app.get("/api/faults")
    def get_faults() -> Faults:
        return handler.faults

    @app.post("/api/faults")
    def set_faults(faults: Faults) -> Faults:
        handler.set_faults(faults)
        return faults

    @app.get("/", response_class=HTMLResponse)
    def index(to: str | None = None) -> str:
        rows = "".join(
            f"<tr><td>{e(m['received_at'])}</td><td>{e(m['mail_from'])}</td>"
            f"<td>{e(', '.join(m['rcpt_tos']))}</td>"
            f"<td><a href='/messages/{e(m['id'])}'>{e(m['subject']) or '(no subject)'}</a></td></tr>"
            for m in reversed(store.messages(to)))
        return _page("Mail sink", "<table><tr><th>Received</th><th>From</th><th>To</th>"
                     f"<th>Subject</th></tr>{rows}</table>")

    @app.get("/messages/{msg_id}", response_class=HTMLResponse)
    def show(msg_id: str) -> str:
        m = one(msg_id)
        hdrs = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in m["headers"].items())
        return _page(m["subject"] or msg_id,
                     f"<p><a href='/'>&larr; all</a> | <a href='/api/messages/{e(msg_id)}/raw'>"
                     f"raw</a></p><table>{hdrs}</table><pre>{e(m['text'] or '')}</pre>"
                     + ("<details><summary>HTML part</summary><pre>"
                        f"{e(m['html'])}</pre></details>" if m["html"] else ""))

    return app


def e(v) -> str:
    return html.escape(str(v))


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><meta charset=utf-8><title>{e(title)}</title><style>"
            "body{font:14px sans-serif;margin:1.5em}td,th{text-align:left;padding:2px 8px;"
            "vertical-align:top}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}"
            f"</style><h1>{e(title)}</h1>{body}")


# ---------------------------------------------------------------- stack integration
def component(s):
    import sys

    from deploy.local.stack.config import REPO_ROOT
    from deploy.local.stack.procs import Component

    argv = [sys.executable, "-m", "deploy.local.mailsink", "--host", s.host,
            "--smtp-port", str(s.smtp_port), "--http-port", str(s.mail_http_port),
            "--mail-dir", str(s.mail_dir)]
    return Component(name="mailsink", argv=argv, marker="-m deploy.local.mailsink",
                     ports={"smtp_port": s.smtp_port, "mail_http_port": s.mail_http_port},
                     address=f"smtp://{s.host}:{s.smtp_port} + {s.mail_api_url()}",
                     cwd=REPO_ROOT, stop_timeout=10)


async def wait_ready(s, timeout: float = 30.0) -> None:
    """SMTP greets with 220 and the HTTP API answers /api/health."""
    import httpx

    from deploy.local.stack.procs import StackError

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(s.host, s.smtp_port), 2)
                banner = await asyncio.wait_for(reader.readline(), 2)
                writer.close()
                if banner.startswith(b"220"):
                    (await http.get(f"{s.mail_api_url()}/api/health")).raise_for_status()
                    return
            except (OSError, asyncio.TimeoutError, httpx.HTTPError) as exc:
                last = exc
            await asyncio.sleep(0.2)
    raise StackError(f"mail sink not ready after {timeout:.0f}s (last error: {last!r})")


# ---------------------------------------------------------------- main
async def serve(host: str, smtp_port: int, http_port: int, mail_dir: Path) -> None:
    import uvicorn

    store = MailStore(mail_dir)
    restored = store.recover()
    handler = Handler(store)
    loop = asyncio.get_running_loop()
    smtp_class = fast_smtp_class()
    # Fixed hostname: aiosmtpd would otherwise call socket.getfqdn(), slow on some hosts.
    smtp = await loop.create_server(
        lambda: smtp_class(handler, hostname="mailsink.aftercart.test", enable_SMTPUTF8=True),
        host=host, port=smtp_port)
    print(f"mailsink: SMTP on {host}:{smtp_port}, HTTP on http://{host}:{http_port}, "
          f"storing in {mail_dir}" + (f" ({restored} messages restored from the journal)" if restored else ""),
          flush=True)
    server = uvicorn.Server(uvicorn.Config(make_app(store, handler), host=host, port=http_port,
                                           log_level="warning", lifespan="off"))
    try:
        await server.serve()  # returns on SIGTERM/SIGINT
    finally:
        smtp.close()
        await smtp.wait_closed()


def main() -> None:
    from deploy.local.stack.config import StackSettings

    s = StackSettings()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default=s.host)
    p.add_argument("--smtp-port", type=int, default=s.smtp_port)
    p.add_argument("--http-port", type=int, default=s.mail_http_port)
    p.add_argument("--mail-dir", type=Path, default=s.mail_dir)
    a = p.parse_args()
    asyncio.run(serve(a.host, a.smtp_port, a.http_port, a.mail_dir))


if __name__ == "__main__":
    main()
