"""A tiny TCP forwarder for tests: makes a dependency "appear" on a port at a moment we choose."""
from __future__ import annotations

import asyncio


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def start_proxy(listen_port: int, target_port: int, host: str = "127.0.0.1") -> asyncio.Server:
    async def handle(r1: asyncio.StreamReader, w1: asyncio.StreamWriter) -> None:
        try:
            r2, w2 = await asyncio.open_connection(host, target_port)
        except OSError:
            w1.close()
            return
        await asyncio.gather(_pipe(r1, w2), _pipe(r2, w1))
    return await asyncio.start_server(handle, host, listen_port)
