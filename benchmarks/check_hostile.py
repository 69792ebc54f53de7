"""Peak memory of ``mailsetup check`` against servers that never stop talking.

Starts, on loopback, the hostile servers of tests/servers/faults.py (an endless multi-line SMTP
greeting, an SMTP greeting line without end, an IMAP ``* OK {4000000000}`` literal followed by a
byte stream, endless untagged IMAP lines) and, as the baseline, a port where nothing listens.
Runs the real CLI against each and prints its own peak resident set size (``VmHWM``, read by the
child at exit, see tests/peak_rss.py: ``wait4``'s ``ru_maxrss`` would report this script's own
peak instead, 48.5 MiB for every case) and the ratio to the baseline. Bounded reads keep the
ratio near 1.0; before them the same servers took the process to 275 MB - 2.5 GB.

Target: peak RSS against every hostile server <= 1.25x the baseline.

Usage (from the repository root, dev dependencies installed):
    python benchmarks/check_hostile.py
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.check_cli import RUN_CLI, clean_env  # noqa: E402
from tests.peak_rss import run_measured  # noqa: E402
from tests.servers.faults import (  # noqa: E402
    endless_smtp_greeting,
    endless_smtp_line,
    imap_endless_untagged,
    imap_huge_literal,
    start_talk_server,
)
from tests.servers.provider import ProviderSettings  # noqa: E402
from tests.servers.runtime import LOOPBACK, free_port  # noqa: E402


def run(provider_file: Path, resolver_port: int) -> tuple[int, dict[str, str | None]]:
    """Peak RSS in KiB and ``{probe: fault}`` of one ``check --json``."""
    args = [
        "--json",
        "--email",
        "jane@example.test",
        "--provider-file",
        str(provider_file),
        "--resolver",
        f"{LOOPBACK}:{resolver_port}",
        "--timeout",
        "10",
    ]
    done, peak_kb = run_measured(RUN_CLI, ["check", *args], env=clean_env())
    doc = json.loads(done.stdout)
    return peak_kb, {p["name"]: p["fault"] for p in doc["probes"]}


def main() -> None:
    nothing = free_port()
    cases: dict[str, tuple[str, Callable[[socket.socket], None] | None]] = {
        "baseline (refused)": ("imap", None),
        "SMTP endless multi-line greeting": ("smtp", endless_smtp_greeting),
        "SMTP greeting line without end": ("smtp", endless_smtp_line),
        "IMAP {4000000000} literal + stream": ("imap", imap_huge_literal),
        "IMAP endless untagged lines": ("imap", imap_endless_untagged),
    }
    results: dict[str, tuple[int, str | None]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, (protocol, talk) in cases.items():
            server = start_talk_server(talk) if talk else None
            port = server.port if server else nothing
            settings = ProviderSettings(
                imap_port=port if protocol == "imap" else nothing,
                smtp_port=port if protocol == "smtp" else nothing,
                caldav_url=f"https://{LOOPBACK}:{nothing}",
                carddav_url=f"https://{LOOPBACK}:{nothing}",
                imap_security="starttls",
            )
            path = settings.write(Path(tmp) / "provider.toml")
            rss, faults = run(path, nothing)
            results[label] = (rss, faults.get(protocol))
            if server:
                server.stop()
    base = results["baseline (refused)"][0]
    print(f"{'case':<38} {'peak RSS':>10} {'ratio':>6}  fault")
    for label, (rss, fault) in results.items():
        print(f"{label:<38} {rss / 1024:>7.1f} MiB {rss / base:>6.2f}  {fault}")
    worst = max(rss for rss, _ in results.values()) / base
    print(f"worst ratio {worst:.2f} (target <= 1.25)")


if __name__ == "__main__":
    main()
