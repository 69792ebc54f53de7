"""CLI start-up: mailsetup against a minimal typer app and bare ``python -c pass``.

Prints the median wall time of each call over N runs and the ratios the project tracks:
``mailsetup --help`` and ``mailsetup profile`` as a multiple of the same call on a minimal typer
app (one command, one option, typer's default settings, same interpreter and typer version) and
of bare Python. Target: <= 1.0x the minimal typer app, i.e. mailsetup adds nothing measurable.

Bytecode caching is switched on for the measured commands (this machine's environment sets
PYTHONDONTWRITEBYTECODE, which would make every run compile every module, as no installed
copy does) and each call runs once untimed first.

Usage: python benchmarks/startup.py [--runs 21] [--client emclient ...] (default: thunderbird)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_APP = """
import typer

app = typer.Typer()


@app.command()
def main(email: str = typer.Option(...)) -> None:
    print(email)


if __name__ == "__main__":
    app()
"""


def median_seconds(cmd: list[str], runs: int, cwd: Path) -> float:
    """Median wall time after one warm-up run (which also writes the bytecode caches)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times = []
    subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument(
        "--client", action="append", default=None, help="clients to time (default: thunderbird)"
    )
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        app = work / "minimal_app.py"
        app.write_text(MINIMAL_APP)
        ours = [py, "-m", "mailsetup"]
        email = ["--email", "jane.doe@example.ch"]
        calls = {
            "python -c pass": [py, "-c", "pass"],
            "minimal typer --help": [py, str(app), "--help"],
            "minimal typer call": [py, str(app), *email],
            "mailsetup --help": [*ours, "--help"],
            "mailsetup profile": [*ours, "profile", *email, "-o", "-"],
        }
        for client in args.client or ["thunderbird"]:
            out = work / f"out-{client}"
            calls[f"mailsetup profile --client {client}"] = [
                *ours,
                "profile",
                *email,
                "--client",
                client,
                "-o",
                str(out),
                "--force",
            ]
        t = {name: median_seconds(cmd, args.runs, work) for name, cmd in calls.items()}

    bare = t["python -c pass"]
    print(f"{'call':<44} {'median ms':>10} {'x typer':>8} {'x bare':>8}")
    for name, sec in t.items():
        ref = t["minimal typer --help"] if name.endswith("--help") else t["minimal typer call"]
        vs_typer = f"{sec / ref:8.2f}" if name.startswith("mailsetup") else f"{'':>8}"
        print(f"{name:<44} {sec * 1000:10.1f} {vs_typer} {sec / bare:8.2f}")


if __name__ == "__main__":
    main()
