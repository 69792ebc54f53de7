"""``mailsetup check --login`` with 200 ms of latency in front of every server.

Starts the test suite's real servers on loopback (Dovecot, aiosmtpd, Radicale, the dnslib DNS
server), puts a delaying proxy in front of each (benchmarks/latency_proxy.py for TCP, a small
UDP relay here for DNS), runs the real CLI and prints its wall time as a ratio of its slowest
single probe. With probes running in parallel the ratio stays close to 1.0; run one after the
other it would be the sum of all probes (printed as "sequential" for comparison).

Target: check wall time <= 1.25x the slowest probe.

Usage (as root, from the repository root, dev dependencies installed):
    python benchmarks/check_parallel.py [--runs 3] [--delay-ms 200]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.latency_proxy import LatencyProxy  # noqa: E402
from tests.check_cli import RUN_CLI, clean_env  # noqa: E402
from tests.servers.ca import CertAuthority  # noqa: E402
from tests.servers.dns import GOOD_DOMAIN, start_dns  # noqa: E402
from tests.servers.dovecot import start_dovecot  # noqa: E402
from tests.servers.provider import ProviderSettings  # noqa: E402
from tests.servers.radicale import start_radicale  # noqa: E402
from tests.servers.runtime import LOOPBACK, remove_dir, scratch_dir  # noqa: E402
from tests.servers.smtp import start_smtp  # noqa: E402


class UdpDelayRelay:
    """Relays DNS datagrams to ``target_port``, delaying each way by ``delay`` seconds."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target = (LOOPBACK, target_port)
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOOPBACK, 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _relay(self, data: bytes, client: tuple[str, int]) -> None:
        time.sleep(self.delay)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as up:
            up.settimeout(5)
            up.sendto(data, self.target)
            try:
                answer = up.recv(65535)
            except TimeoutError:
                return
        time.sleep(self.delay)
        self.sock.sendto(answer, client)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, client = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            threading.Thread(target=self._relay, args=(data, client), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def run_once(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "check", *args],
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - started
    if not proc.stdout:
        raise SystemExit(f"check printed nothing: {proc.stderr}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=float, default=200.0)
    opts = parser.parse_args()
    delay = opts.delay_ms / 1000

    ca_dir = scratch_dir("bench-ca")
    stoppers: list[object] = []
    try:
        ca = CertAuthority(ca_dir, "bench")
        cert = ca.issue()
        dovecot = start_dovecot(cert, ca.pem_path)
        stoppers.append(dovecot)
        smtp = start_smtp(cert)
        stoppers.append(smtp)
        radicale = start_radicale(cert)
        stoppers.append(radicale)
        dns = start_dns()
        stoppers.append(dns)

        proxies = {
            name: LatencyProxy(LOOPBACK, port, opts.delay_ms).start()
            for name, port in {
                "imaps": dovecot.imaps_port,
                "submission": smtp.submission_port,
                "smtps": smtp.smtps_port,
                "dav": radicale.port,
            }.items()
        }
        stoppers.extend(proxies.values())
        relay = UdpDelayRelay(dns.port, delay)
        stoppers.append(relay)

        settings = ProviderSettings(
            imap_port=proxies["imaps"].port,
            smtp_port=proxies["submission"].port,
            smtp_alternatives=((proxies["smtps"].port, "ssl"),),
            caldav_url=f"https://localhost:{proxies['dav'].port}",
            carddav_url=f"https://localhost:{proxies['dav'].port}",
        )
        with tempfile.TemporaryDirectory() as tmp:
            provider_file = settings.write(Path(tmp) / "bench.toml")
            args = [
                "--email",
                f"{dovecot.user.split('@')[0]}@{GOOD_DOMAIN}",
                "--sync-user",
                radicale.user,
                "--login",
                "--json",
                "--provider-file",
                str(provider_file),
                "--ca-file",
                str(ca.pem_path),
                "--resolver",
                f"{LOOPBACK}:{relay.port}",
                "--timeout",
                "30",
            ]
            env = {
                "MAILSETUP_PASSWORD": dovecot.password,
                "MAILSETUP_SYNC_PASSWORD": radicale.password,
            }
            print(
                f"check --login, +{opts.delay_ms:g} ms each way in front of every server, "
                f"{opts.runs} runs"
            )
            check_ratios, cli_ratios = [], []
            for i in range(opts.runs):
                wall, doc = run_once(args, env)
                probes = doc["probes"]
                assert isinstance(probes, list)
                statuses = {p["name"]: p["status"] for p in probes}
                failed = [n for n, s in statuses.items() if s == "fail"]
                if failed:
                    raise SystemExit(f"probes failed, the figures would mean nothing: {failed}")
                slowest = max(probes, key=lambda p: p["elapsed_ms"])
                total = sum(p["elapsed_ms"] for p in probes)
                check_ms = int(doc["elapsed_ms"])  # type: ignore[call-overload]
                slow_ms = slowest["elapsed_ms"]
                check_ratios.append(check_ms / slow_ms)
                cli_ratios.append(wall * 1000 / slow_ms)
                print(
                    f"  run {i + 1}: slowest probe {slowest['name']} {slow_ms} ms; "
                    f"check {check_ms} ms = {check_ms / slow_ms:.2f}x; "
                    f"whole command {wall * 1000:.0f} ms = {wall * 1000 / slow_ms:.2f}x "
                    f"(interpreter start-up included); sequential would be {total} ms = "
                    f"{total / slow_ms:.1f}x"
                )
            print(
                "  last run, per probe: "
                + ", ".join(f"{p['name']} {p['elapsed_ms']}" for p in probes)  # type: ignore[index]
            )
            print(
                "  connections through the proxies: "
                + ", ".join(f"{name} {proxy.connections}" for name, proxy in proxies.items())
            )
            ratio = statistics.median(check_ratios)
            print(
                f"median: check wall time / slowest probe = {ratio:.2f}x "
                f"(target <= 1.25x: {'met' if ratio <= 1.25 else 'NOT met'}); "
                f"whole command incl. start-up = {statistics.median(cli_ratios):.2f}x"
            )
    finally:
        for item in reversed(stoppers):
            try:
                # close() also deletes a server's scratch folder, where there is one.
                (getattr(item, "close", None) or item.stop)()  # type: ignore[attr-defined]
            except Exception as exc:  # keep stopping the others
                print(f"stopping {type(item).__name__}: {exc}", file=sys.stderr)
        remove_dir(ca_dir)


if __name__ == "__main__":
    main()
