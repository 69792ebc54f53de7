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

With ``udp=True`` (``--udp``) the same port also relays UDP datagrams, each delayed the same way
in both directions: for a DNS server, which answers on both.

Command line: ``python benchmarks/latency_proxy.py TARGET_PORT --delay-ms 200 [--target-host H]
[--listen-port P] [--udp]``; it prints the port it listens on and runs until interrupted.
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


class _UdpRelay(asyncio.DatagramProtocol):
    """Client side of the UDP relay: one upstream socket per client address."""

    def __init__(self, proxy: LatencyProxy) -> None:
        self.proxy = proxy
        self.transport: asyncio.DatagramTransport | None = None
        self.upstreams: dict[tuple[str, int], asyncio.Future[asyncio.DatagramTransport]] = {}
        self.openings: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        if addr not in self.upstreams:
            future: asyncio.Future[asyncio.DatagramTransport] = loop.create_future()
            self.upstreams[addr] = future
            task = loop.create_task(self._open(addr, future))
            self.openings.add(task)
            task.add_done_callback(self.openings.discard)
        loop.call_later(self.proxy.delay, self._send_up, addr, data)

    async def _open(
        self, addr: tuple[str, int], future: asyncio.Future[asyncio.DatagramTransport]
    ) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpBack(self, addr),
            remote_addr=(self.proxy.target_host, self.proxy.target_port),
        )
        future.set_result(transport)

    def _send_up(self, addr: tuple[str, int], data: bytes) -> None:
        future = self.upstreams[addr]
        if future.done():
            future.result().sendto(data)
        else:
            future.add_done_callback(lambda f: f.result().sendto(data))

    def close(self) -> None:
        for future in self.upstreams.values():
            if future.done() and not future.cancelled():
                future.result().close()
        if self.transport is not None:
            self.transport.close()


class _UdpBack(asyncio.DatagramProtocol):
    """Target side of the UDP relay: replies go back to the client after the delay."""

    def __init__(self, relay: _UdpRelay, client: tuple[str, int]) -> None:
        self.relay = relay
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        transport = self.relay.transport
        if transport is not None:
            asyncio.get_running_loop().call_later(
                self.relay.proxy.delay, transport.sendto, data, self.client
            )


class LatencyProxy:
    """Listens on ``listen_host:port`` (0 = a free port) and forwards to ``target``."""

    def __init__(
        self,
        target_host: str,
        target_port: int,
        delay_ms: float = 200.0,
        listen_host: str = LOOPBACK,
        listen_port: int = 0,
        *,
        udp: bool = False,
    ) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.delay = delay_ms / 1000.0
        self.listen_host = listen_host
        self.port = listen_port
        self.udp = udp
        self.connections = 0
        self._udp: _UdpRelay | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        writers = [client_w]
        try:
            await asyncio.sleep(self.delay)  # the SYN's trip to the far end
            target_r, target_w = await asyncio.open_connection(self.target_host, self.target_port)
            writers.append(target_w)
            await asyncio.gather(
                _pump(client_r, target_w, self.delay),
                _pump(target_r, client_w, self.delay),
                return_exceptions=True,
            )
        except (OSError, asyncio.CancelledError):
            pass  # target refused, or the proxy is stopping: just close both sides
        finally:
            for writer in writers:
                writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def serve(self) -> asyncio.AbstractServer:
        """Start listening in the running loop (for callers that have their own loop)."""
        for _attempt in range(20):
            server = await asyncio.start_server(self._handle, self.listen_host, self.port)
            port = server.sockets[0].getsockname()[1]
            if not self.udp:
                break
            try:
                _, relay = await asyncio.get_running_loop().create_datagram_endpoint(
                    lambda: _UdpRelay(self), local_addr=(self.listen_host, port)
                )
            except OSError:  # that UDP port is taken: try another pair
                server.close()
                if self.port:
                    raise
                continue
            self._udp = relay
            break
        else:
            raise OSError("no port free for both TCP and UDP")
        self._server, self.port = server, port
        return server

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
            if self._udp is not None:
                self._udp.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            # Each handler closes its two sockets as it ends; one more turn lets them go.
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 2)
            await asyncio.sleep(0)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
            if self._thread.is_alive():
                return  # leave a stuck loop alone rather than close it under its thread
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
    parser.add_argument("--udp", action="store_true", help="relay UDP on the same port too")
    args = parser.parse_args()

    async def run() -> None:
        proxy = LatencyProxy(
            args.target_host,
            args.target_port,
            args.delay_ms,
            listen_port=args.listen_port,
            udp=args.udp,
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
