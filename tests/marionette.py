"""A minimal Marionette client, enough to run privileged JavaScript in a test Thunderbird.

Marionette is Gecko's remote-control protocol (the one geckodriver speaks): TCP, each message
``<length>:<json>``; commands are ``[0, id, name, params]``, answers ``[1, id, error, result]``.
Thunderbird opens it with ``--marionette``; with the pref ``marionette.port`` 0 it picks a free
port and writes it to ``<profile>/MarionetteActivePort``. Used by the end-to-end test only to
store a password in Thunderbird's own (NSS-encrypted) login store, the one thing ``user.js``
cannot carry, and to read back what Thunderbird made of ``user.js``.
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any


class MarionetteError(RuntimeError):
    pass


class Marionette:
    def __init__(self, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""
        self.next_id = 0
        hello = self._read()
        if hello.get("marionetteProtocol") != 3:
            raise MarionetteError(f"unexpected greeting {hello!r}")

    def _read(self) -> Any:
        while b":" not in self.buffer:
            self._fill()
        size, _, rest = self.buffer.partition(b":")
        length = int(size)
        self.buffer = rest
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(body)

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise MarionetteError("Marionette closed the connection")
        self.buffer += chunk

    def command(self, name: str, params: dict[str, Any] | None = None) -> Any:
        self.next_id += 1
        data = json.dumps([0, self.next_id, name, params or {}]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            kind, msg_id, error, result = self._read()
            if kind == 1 and msg_id == self.next_id:
                break
        if error:
            raise MarionetteError(f"{name}: {error}")
        return result

    def start_chrome_session(self) -> None:
        self.command("WebDriver:NewSession", {"capabilities": {}})
        self.command("Marionette:SetContext", {"value": "chrome"})

    def run(self, script: str, *args: Any, timeout_ms: int = 20000) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``; may return a Promise)."""
        self.command("WebDriver:SetTimeouts", {"script": timeout_ms})
        return self.command("WebDriver:ExecuteScript", {"script": script, "args": list(args)})[
            "value"
        ]

    def quit(self) -> None:
        with contextlib.suppress(MarionetteError, OSError):
            self.command("Marionette:Quit", {"flags": ["eAttemptQuit"]})
        self.close()

    def close(self) -> None:
        self.sock.close()
