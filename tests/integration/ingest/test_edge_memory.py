"""Memory without any credential: 1,000 unsigned requests, each with a unique large header, leave
a real ingest process's memory (RSS from /proc) within 20 MB of what it was before them. Before,
the store lookup remembered every X-WC-Webhook-Source it was asked for, 1 MB ones included, for
ever (100 such requests: +97 MB, kept).

The mix: unique 1 MB sources (refused by the serving layer's head limit: 431), unique 20 KB
sources (under that limit, refused at the webhook edge: 431, never looked up), unique sources of
2,000 characters (a length a URL may have: looked up, unknown, 401; the cache of unknown sources
keeps at most store_cache_misses of them)."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from tests.support.served_ingest import raw_request, rss_bytes, served_ingest, signed_delivery
from tests.support.woo import order

BOUND = 20 * 1024 * 1024


def _unsigned(source: str) -> bytes:
    body = b'{"id": 1}'
    return (f"POST /webhooks/woocommerce HTTP/1.1\r\nHost: ingest\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-WC-Webhook-Topic: order.created\r\nX-WC-Webhook-Source: {source}\r\n"
            f"X-WC-Webhook-Signature: forged\r\n\r\n").encode() + body


def _source(n: int, size: int) -> str:
    prefix = f"https://{os.urandom(6).hex()}-{n}.example/"
    return prefix + "a" * (size - len(prefix))


def _burst(port: int, kinds: list[int]) -> list[tuple[int, int]]:
    """(size, status) for one request per entry of `kinds` (a header size), 8 at a time."""
    def one(args):
        n, size = args
        return size, raw_request(port, _unsigned(_source(n, size)))[0]
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, enumerate(kinds)))


def test_1000_unique_large_source_headers_leave_memory_bounded(stack, tmp_path, uid):
    mix = [1_048_576, 20_000, 2_000] * 333 + [1_048_576]  # 1,000 requests
    with served_ingest(stack, tmp_path) as srv:
        srv.register(f"mem-{uid}", f"https://mem-{uid}.example/", f"mem-{uid}-secret-0123")
        _burst(srv.port, mix[:60])  # warm up: the allocator's first arenas, the first lookups
        before = rss_bytes(srv.proc.pid)
        answers = _burst(srv.port, mix)
        after = rss_bytes(srv.proc.pid)
        print(f"\ningest RSS: {before / 2**20:.1f} MB before, {after / 2**20:.1f} MB after 1,000 requests"
              f" ({(after - before) / 2**20:+.1f} MB)")
        assert {s for size, s in answers if size == 1_048_576} == {431}
        assert {s for size, s in answers if size == 20_000} == {431}
        assert {s for size, s in answers if size == 2_000} == {401}
        assert after - before < BOUND
        # ... and the real store is served as before.
        status, body = raw_request(srv.port, signed_delivery(f"https://mem-{uid}.example/",
                                                             f"mem-{uid}-secret-0123", order(uid)))
        assert status == 200, body
