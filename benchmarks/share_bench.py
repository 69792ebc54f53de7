"""``mailsetup share`` start-up: from the command's start to the first byte served.

The issue's goal: the phone can fetch the profile within 0.3 s of the command starting. Each run
starts ``mailsetup share --host 127.0.0.1`` (loopback only), reads the URL from its output, GETs
it and stops the clock at the first byte of the response. Printed beside it, for scale: the
whole ``mailsetup profile -o -`` run (rendering the same file, no server), bare ``python -c
pass``, and what importing a server costs in a fresh interpreter: the standard library's
``http.server`` (used) and uvicorn (the project's default for HTTP services, when installed).

Bytecode caching is switched on (as in benchmarks/startup.py) and each call runs once untimed.

Usage: python benchmarks/share_bench.py [--runs 21]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

BUDGET = 0.3
ME = ["--email", "jane.doe@example.ch", "--name", "Jane Doe", "--sync-user", "AB12345"]


def _env() -> dict[str, str]:
    """The tests' environment rule (no MAILSETUP_* variables), with bytecode caches written."""
    from tests.cli import clean_env

    env = clean_env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def first_byte(cwd: Path) -> float:
    """Seconds from spawning ``mailsetup share`` to the first byte of the profile."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailsetup", "share", *ME, "--host", "127.0.0.1"],
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("http://"):
                url = urlsplit(line.strip())
                break
        else:
            raise SystemExit("mailsetup share printed no URL")
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(f"GET {url.path} HTTP/1.0\r\n\r\n".encode())
            sock.recv(1)
            elapsed = time.perf_counter() - start
            while sock.recv(65536):
                pass
        proc.wait(10)
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wall(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median_of(runs: int, measure: object) -> tuple[float, float]:
    assert callable(measure)
    measure()  # warm-up: bytecode caches, page cache
    times = [measure() for _ in range(runs)]
    return statistics.median(times), max(times)


def import_cost(module: str, cwd: Path, runs: int) -> float | None:
    """Median extra wall time of ``import module`` in a fresh interpreter; None if missing."""
    probe = [sys.executable, "-c", f"import {module}"]
    if subprocess.run(probe, cwd=cwd, env=_env(), capture_output=True).returncode != 0:
        return None
    base = statistics.median(wall([sys.executable, "-c", "pass"], cwd) for _ in range(runs))
    return statistics.median(wall(probe, cwd) for _ in range(runs)) - base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        share_med, share_max = median_of(args.runs, lambda: first_byte(work))
        profile_med, _ = median_of(
            args.runs, lambda: wall([py, "-m", "mailsetup", "profile", *ME, "-o", "-"], work)
        )
        bare_med, _ = median_of(args.runs, lambda: wall([py, "-c", "pass"], work))
        print(f"{'python -c pass':40s} {bare_med * 1000:7.1f} ms")
        print(f"{'mailsetup profile -o - (whole run)':40s} {profile_med * 1000:7.1f} ms")
        print(
            f"{'mailsetup share: start to first byte':40s} {share_med * 1000:7.1f} ms"
            f"  (max {share_max * 1000:.1f} ms over {args.runs} runs)"
        )
        print(f"share / budget {BUDGET:.1f} s: {share_med / BUDGET:.2f}x")
        print(f"share / profile: {share_med / profile_med:.2f}x")
        for module in ("http.server", "uvicorn"):
            cost = import_cost(module, work, args.runs)
            shown = "not installed" if cost is None else f"{cost * 1000:7.1f} ms"
            print(f"{'import ' + module + ' (fresh interpreter)':40s} {shown}")


if __name__ == "__main__":
    main()
