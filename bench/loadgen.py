"""A lean HTTP/1.1 keep-alive load generator: one asyncio Protocol per connection, requests
pre-rendered to bytes, one request in flight per connection (like a WooCommerce queue runner),
no HTTP library on the hot path. Runs as its own process so its CPU is not the server's.

    python -m bench.loadgen --plan PLAN.pickle --port 8001 [--think-ms 0] [--timeout 300]

PLAN is a pickle of {"warmup": [[bytes]], "timed": [[bytes]]}: one list of requests per
connection. The warm-up requests go first (untimed); then the generator prints "READY" and waits
for a line on stdin, so the caller can sample CPU counters, and runs the timed requests. It prints
one JSON line: counts, wall time, per-request latencies (µs) and its own CPU time.
"""
from __future__ import annotations

import argparse
import asyncio
import pickle
import resource
import sys
import time
from collections import Counter

import orjson


class Conn(asyncio.Protocol):
    __slots__ = ("loop", "transport", "buf", "reqs", "i", "t0", "lat", "codes", "outcomes", "events",
                 "think", "done", "need", "hdr_end", "errors", "record")

    def __init__(self, loop: asyncio.AbstractEventLoop, think_s: float) -> None:
        self.loop, self.think = loop, think_s
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.reqs: list[bytes] = []
        self.i = 0
        self.t0 = 0
        self.lat: list[int] = []
        self.codes: Counter = Counter()
        self.outcomes: Counter = Counter()
        self.events = 0
        self.errors: list[str] = []
        self.need = -1
        self.hdr_end = 0
        self.done: asyncio.Future | None = None
        self.record = False

    # --- driving -------------------------------------------------------------------------------
    def run(self, reqs: list[bytes], record: bool) -> asyncio.Future:
        self.reqs, self.i, self.record = reqs, 0, record
        self.done = self.loop.create_future()
        self._send()
        return self.done

    def _send(self) -> None:
        if self.i >= len(self.reqs):
            if not self.done.done():
                self.done.set_result(None)
            return
        req = self.reqs[self.i]
        self.i += 1
        self.t0 = time.perf_counter_ns()
        self.transport.write(req)

    # --- protocol ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.errors.append(f"connection lost after {self.i} requests: {exc!r}")
            self.done.set_result(None)

    def data_received(self, data: bytes) -> None:
        t1 = time.perf_counter_ns()
        buf = self.buf
        buf += data
        if self.need < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).lower()
            p = head.find(b"\r\ncontent-length:")
            if p < 0:
                self.errors.append("response without content-length")
                self.transport.close()
                return
            q = head.find(b"\r\n", p + 2)
            length = int(head[p + 17:q if q > 0 else len(head)])
            self.hdr_end, self.need = end + 4, end + 4 + length
        if len(buf) < self.need:
            return
        status = int(buf[9:12])
        body = bytes(buf[self.hdr_end:self.need])
        if len(buf) != self.need:
            self.errors.append("unexpected extra bytes after a response")
        buf.clear()
        self.need = -1
        if self.record:
            self.lat.append((t1 - self.t0) // 1000)
            self.codes[status] += 1
            if body.startswith(b'{"outcome"'):
                r = orjson.loads(body)
                self.outcomes[r["outcome"]] += 1
                self.events += r["events"]
            elif status != 200:
                self.outcomes[body[:120].decode(errors="replace")] += 1
        if self.think > 0:
            self.loop.call_later(self.think, self._send)
        else:
            self._send()


async def main(args: argparse.Namespace) -> dict:
    with open(args.plan, "rb") as f:
        plan = pickle.load(f)
    loop = asyncio.get_running_loop()
    conns: list[Conn] = []
    for _ in plan["timed"]:
        _, proto = await loop.create_connection(lambda: Conn(loop, args.think_ms / 1000), args.host, args.port)
        conns.append(proto)
    warm = plan.get("warmup") or [[] for _ in conns]
    await asyncio.wait_for(asyncio.gather(*(c.run(w, False) for c, w in zip(conns, warm))), args.timeout)
    print("READY", flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    ru0, wall0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.time(), time.perf_counter()
    futs = [c.run(reqs, True) for c, reqs in zip(conns, plan["timed"])]
    try:
        await asyncio.wait_for(asyncio.gather(*futs), args.timeout)
        timed_out = False
    except asyncio.TimeoutError:
        timed_out = True
    elapsed = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    for c in conns:
        c.transport.close()
    codes, outcomes = Counter(), Counter()
    for c in conns:
        codes.update(c.codes)
        outcomes.update(c.outcomes)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    lat = [x for c in conns for x in c.lat]
    return {"requests": len(lat), "planned": sum(map(len, plan["timed"])), "connections": len(conns),
            "think_ms": args.think_ms, "start_wall": wall0, "elapsed_s": elapsed, "timed_out": timed_out,
            "codes": {str(k): v for k, v in codes.items()}, "outcomes": dict(outcomes),
            "events": sum(c.events for c in conns), "errors": [e for c in conns for e in c.errors][:10],
            "cpu_s": cpu, "latencies_us": lat}


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plan", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--think-ms", type=float, default=0.0, help="pause after each response (a store's own work)")
    p.add_argument("--timeout", type=float, default=300.0)
    return p.parse_args()


if __name__ == "__main__":
    args = _parse()
    try:
        import uvloop
        result = uvloop.run(main(args))
    except ImportError:  # plain asyncio still works, a little slower
        result = asyncio.run(main(args))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
