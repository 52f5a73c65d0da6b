"""Connections are not held for ever: against a real ingest process (served as deployed, with short
deadlines so the test is quick), 150 connections that never send a byte, send their head a byte
at a time, or stop in the middle of their body are each closed at their deadline (measured:
asserted within deadline + SLACK, and not before it). Before, uvicorn held all 150 for as long as
the client liked (60 s observed, none closed). Keep-alive deliveries still work, and the
concurrency limit refuses beyond it until the deadlines free its slots."""
from __future__ import annotations

import asyncio
import statistics
import time

from tests.support.served_ingest import raw_request, served_ingest, signed_delivery
from tests.support.woo import order

KEEP_ALIVE_S, HEADER_S, BODY_S = 2.0, 3.0, 3.0
SLACK = 1.5  # the event loop's timer, a loaded 2-core machine
DEADLINES = {"HTTP_KEEP_ALIVE_S": str(KEEP_ALIVE_S), "HTTP_HEADER_TIMEOUT_S": str(HEADER_S),
             "HTTP_BODY_TIMEOUT_S": str(BODY_S)}


async def _closed_after(reader: asyncio.StreamReader, since: float) -> float:
    """Seconds from `since` until the server closed the connection (whatever it sent before)."""
    try:
        while await reader.read(65536):
            pass
    except ConnectionError:
        pass
    return time.monotonic() - since


async def _idle(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    took = await _closed_after(reader, time.monotonic())
    writer.close()
    return took


async def _slow_head(port: int) -> float:
    """A head sent one byte every 0.2 s (blank lines first: they don't begin a request either)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"\r\n\r\nPOST /webhooks/woocommerce HTTP/1.1\r\nHost: ingest\r\nX-WC-Webhook-Topic: order.created\r\n" * 5
    started = time.monotonic()
    first_byte = started + 0.8  # the request begins with its first non-blank byte, the fifth

    async def drip() -> None:
        for i in range(len(head)):
            try:
                writer.write(head[i:i + 1])
                await writer.drain()
            except ConnectionError:
                return
            await asyncio.sleep(0.2)

    dripping = asyncio.create_task(drip())
    took = await _closed_after(reader, first_byte)
    dripping.cancel()
    writer.close()
    return took


async def _partial_body(port: int, source: str) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /webhooks/woocommerce HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 5000\r\nX-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Source: "
                 + source.encode() + b"\r\nX-WC-Webhook-Signature: x\r\n\r\n" + b'{"id": 1, "pad": "' + b"x" * 100)
    await writer.drain()
    took = await _closed_after(reader, time.monotonic())
    writer.close()
    return took


async def _idle_after_an_answer(port: int) -> float:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    await reader.readexactly(int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0]))
    took = await _closed_after(reader, time.monotonic())
    writer.close()
    return took


def _summary(name: str, took: list[float]) -> str:
    return f"{name}: {len(took)} closed after {min(took):.2f}–{max(took):.2f} s (median {statistics.median(took):.2f})"


def test_slow_partial_and_idle_connections_are_closed_at_their_deadlines(stack, tmp_path, uid):
    source = f"https://conn-{uid}.example/"
    with served_ingest(stack, tmp_path, **DEADLINES) as srv:
        srv.register(f"conn-{uid}", source, f"conn-{uid}-secret-0123")

        async def run():
            return await asyncio.gather(
                asyncio.gather(*[_idle(srv.port) for _ in range(50)]),
                asyncio.gather(*[_slow_head(srv.port) for _ in range(50)]),
                asyncio.gather(*[_partial_body(srv.port, source) for _ in range(50)]),
                asyncio.gather(*[_idle_after_an_answer(srv.port) for _ in range(10)]))

        started = time.monotonic()
        idle, slow, partial, kept = asyncio.run(run())
        total = time.monotonic() - started
        print("\n" + "\n".join([_summary("idle (no byte)", idle), _summary("slow head", slow),
                                _summary("partial body", partial), _summary("idle after an answer", kept),
                                f"all 160 closed within {total:.2f} s"]))
        for took, deadline in ((idle, KEEP_ALIVE_S), (slow, HEADER_S), (partial, BODY_S), (kept, KEEP_ALIVE_S)):
            assert all(deadline - 0.3 <= t <= deadline + SLACK for t in took), (deadline, sorted(took))
        # The server still answers as before.
        assert raw_request(srv.port, b"GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n")[0] == 200


def test_keep_alive_deliveries_still_work_within_the_idle_deadline(stack, tmp_path, uid):
    import socket

    from tests.support.served_ingest import read_response

    source, secret = f"https://keep-{uid}.example/", f"keep-{uid}-secret-0123"
    with served_ingest(stack, tmp_path, **DEADLINES) as srv:
        srv.register(f"keep-{uid}", source, secret)
        with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as sock:
            statuses = []
            for i in range(6):  # one connection, gaps under the idle deadline: all on it
                sock.sendall(signed_delivery(source, secret, order(f"{uid}{i}")))
                statuses.append(read_response(sock)[0])
                time.sleep(KEEP_ALIVE_S / 2)
            # A head sent in pieces, each within the head deadline, is a head like any other.
            data = signed_delivery(source, secret, order(f"{uid}x"))
            for part in (data[:40], data[40:200]):
                sock.sendall(part)
                time.sleep(0.5)
            sock.sendall(data[200:])
            statuses.append(read_response(sock)[0])
            assert statuses == [200] * 7
            started = time.monotonic()
            assert sock.recv(1) == b""  # then idle: closed at the deadline
            assert KEEP_ALIVE_S - 0.3 <= time.monotonic() - started <= KEEP_ALIVE_S + SLACK


def test_the_concurrency_limit_refuses_beyond_it_until_the_deadlines_free_slots(stack, tmp_path):
    import socket

    with served_ingest(stack, tmp_path, HTTP_LIMIT_CONCURRENCY="20", **DEADLINES) as srv:
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(20)]
        try:
            time.sleep(0.3)  # accepted by the server
            assert raw_request(srv.port, b"GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n")[0] == 503
            time.sleep(KEEP_ALIVE_S + SLACK)  # the idle deadline closes the 20 held connections
            assert all(s.recv(1) == b"" for s in held)
            assert raw_request(srv.port, b"GET /healthz HTTP/1.1\r\nHost: ingest\r\n\r\n")[0] == 200
        finally:
            for s in held:
                s.close()
