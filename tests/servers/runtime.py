"""Plumbing shared by the server fixtures: free ports, bounded waits, scratch folders, stopping."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"
# Certificates are issued for both, so clients may use either name.
HOST = "localhost"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nothing listens on right now (bind to port 0, read it, close).

    A tiny race with other processes remains; on a test machine it is harmless, and servers that
    accept an already bound socket (asyncio, socketserver) bind port 0 themselves instead.
    """
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int,
    timeout: float = 10.0,
    *,
    process: subprocess.Popen[bytes] | None = None,
    what: str = "server",
    log: Path | None = None,
) -> None:
    """Block until something accepts TCP connections on ``port``; fail clearly after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {process.returncode} before listening on "
                f"{port}{_log_tail(log)}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not listening on {port} after {timeout} s{_log_tail(log)}")
        time.sleep(0.02)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes; return whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def _log_tail(log: Path | None, lines: int = 20) -> str:
    if log is None or not log.exists():
        return ""
    tail = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- " + str(log) + " ---\n" + "\n".join(tail)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """SIGTERM, wait at most ``timeout``, then SIGKILL.

    Servers are started with ``start_new_session=True``, so the fallback kills the process group
    whose id is this process's own pid: the server and the children it forked, nothing else.
    """
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(timeout)


_background_stops: list[threading.Thread] = []


def stop_process_soon(
    process: subprocess.Popen[bytes], then: Callable[[], None] | None = None, timeout: float = 3.0
) -> None:
    """Like :func:`stop_process`, but in a background thread, then run ``then`` (cleanup).

    Dovecot's master takes a second or more to exit (up to 5 s when stopped right after a
    client connected while its auth process was still starting); per-test instances should not
    make every test that long. The interpreter joins these threads at exit (bounded).
    """
    process.poll()

    def run() -> None:
        stop_process(process, timeout)
        if then is not None:
            then()

    thread = threading.Thread(target=run, name=f"stop-{process.pid}", daemon=True)
    thread.start()
    _background_stops.append(thread)


@atexit.register
def _join_background_stops() -> None:
    deadline = time.monotonic() + 15
    for thread in _background_stops:
        thread.join(max(0.0, deadline - time.monotonic()))


def die_with_parent() -> None:
    """``preexec_fn`` for server processes: SIGTERM them if the test process dies.

    Finalizers do not run when pytest is killed (or pytest-timeout's thread method exits the
    process); Linux's PR_SET_PDEATHSIG makes the kernel stop the server anyway.
    """
    import ctypes

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def scratch_dir(prefix: str) -> Path:
    """A fresh folder under the system temp dir, mode 0755 on itself.

    Not pytest's tmp_path: that is 0700 and Dovecot's unprivileged processes (dovenull, dovecot)
    must reach their files (FACTS.md). /tmp itself is world-traversable.
    """
    path = Path(tempfile.mkdtemp(prefix=f"mailsetup-{prefix}-"))
    os.chmod(path, 0o755)
    return path


def remove_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


class ServerLog:
    """Read a server's own log file, the evidence tests assert on (logins, requests, TLS).

    Subclasses provide ``log_path``; offsets from ``log_mark`` let a test look only at what
    happened after it acted.
    """

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_mark(self) -> int:
        """Current end of the log, for ``log_since`` / ``wait_for_log(since=...)``."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, mark: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as f:
            f.seek(mark)
            return f.read().decode(errors="replace")

    def wait_for_log(
        self, pattern: str, timeout: float = 5.0, since: int = 0
    ) -> re.Match[str] | None:
        """First match of regex ``pattern`` in the log after offset ``since``, or None."""
        found: list[re.Match[str]] = []

        def seen() -> bool:
            match = re.search(pattern, self.log_since(since))
            if match:
                found.append(match)
            return match is not None

        wait_until(seen, timeout)
        return found[0] if found else None
