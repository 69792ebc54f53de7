"""A TCP proxy that adds latency, to measure ``mailsetup check`` against slow servers.

Every chunk relayed in either direction is delayed by ``delay_ms`` (order preserved), and the
connection to the target is opened only after the same delay, so a TLS handshake or an IMAP
greeting costs what it would on a link with that one-way latency. Payload is untouched: TLS
passes through end to end and certificates still name ``localhost``.

Library use::

    proxy = LatencyProxy("127.0.0.1", dovecot.imaps_port, delay_ms=200)
    proxy.start()             # background thread; proxy.port is the port to connect to
    ...
    proxy.stop()

Command line: ``python benchmarks/latency_proxy.py TARGET_PORT --delay-ms 200 [--target-host H]
[--listen-port P]``; it prints the port it listens on and runs until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time

LOOPBACK = "127.0.0.1"


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk released ``delay`` s after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return

    async def write() -> None:
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    if writer.can_write_eof():
                        writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    reading = asyncio.ensure_future(read())
    try:
        await write()
    finally:
        reading.cancel()


class LatencyProxy:
    """Listens on ``listen_host:port`` (0 = a free port) and forwards to ``target``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        delay_ms: float = 200.0,
        listen_host: str = LOOPBACK,
        listen_port: int = 0,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.delay = delay_ms / 1000.0
        self.listen_host = listen_host
        self.port = listen_port
        self.connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await asyncio.sleep(self.delay)  # the SYN's trip to the far end
            try:
                target_r, target_w = await asyncio.open_connection(
                    self.target_host, self.target_port
                )
            except OSError:
                client_w.close()
                return
            await asyncio.gather(
                _pump(client_r, target_w, self.delay),
                _pump(target_r, client_w, self.delay),
                return_exceptions=True,
            )
            for w in (target_w, client_w):
                w.close()
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def serve(self) -> asyncio.AbstractServer:
        """Start listening in the running loop (for callers that have their own loop)."""
        self._server = await asyncio.start_server(self._handle, self.listen_host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self._server

    def start(self) -> LatencyProxy:
        """Run in a background thread with its own event loop; returns once listening."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="latency-proxy", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.serve(), loop).result(5)
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        loop.close()
        self._loop = None

    def __enter__(self) -> LatencyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target_port", type=int)
    parser.add_argument("--target-host", default=LOOPBACK)
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--listen-port", type=int, default=0)
    args = parser.parse_args()

    async def run() -> None:
        proxy = LatencyProxy(
            args.target_host, args.target_port, args.delay_ms, listen_port=args.listen_port
        )
        server = await proxy.serve()
        print(
            f"listening on {LOOPBACK}:{proxy.port} -> {args.target_host}:{args.target_port} "
            f"(+{args.delay_ms:g} ms each way)",
            flush=True,
        )
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
