"""``mailsetup serve`` against automx2: requests per second and latency, same machine and load.

Both servers run under gunicorn with the same number of workers on loopback, and both are
loaded by wrk (Debian package; 2 threads, 8 connections) for the same time:

- automx2: the current release from PyPI, installed by this script into a temporary virtual
  environment with pip (it is not a dependency of mailsetup), its documented Flask app
  ``automx2.server:app`` under gunicorn's default sync workers, its database a SQLite file
  shared by the workers (``AUTOMX2_CONF`` → ``db_uri``), seeded by POSTing its own JSON to
  ``/initdb/`` with the Infomaniak values read from mailsetup's provider file;
- mailsetup: ``mailsetup.serve.app:create_app()`` under gunicorn with uvicorn workers.

Endpoints: Mozilla autoconfig (``/mail/config-v1.1.xml?emailaddress=``) and the Apple profile
(automx2's ``/mobileconfig/?emailaddress=``, ours ``/mobileconfig?emailaddress=``). Two
scenarios: the same address on every request (mailsetup answers from its per-address cache),
and a new address on every request (a wrk Lua script; every answer rendered afresh). Rounds
alternate between the servers so that noise from other work on the machine hits both alike.
Access logs are off on both (gunicorn's default for automx2; ``MAILSETUP_SERVE_LOG_LEVEL=
warning`` for ours); ``--access-log`` turns ours on to show its cost.

Goal: mailsetup >= 8x automx2's requests/s (floor 4x).

Usage (from the repository root, network access to PyPI for automx2):
    python benchmarks/serve_bench.py [--workers 1] [--duration 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.runtime import LOOPBACK, free_port, stop_process, wait_for_port  # noqa: E402

DOMAIN = "example.ch"
ADDRESS = f"jane.doe@{DOMAIN}"
BIN = Path(sys.executable).parent


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def seed_from_provider() -> dict[str, object]:
    """automx2's version-2 seed JSON with the values of profiles/infomaniak.toml."""
    from mailsetup.provider import load_provider

    provider = load_provider()
    return {
        "version": 2,
        "provider": provider.name,
        "domains": [{"name": DOMAIN}],
        "servers": [
            {"type": "imap", "name": provider.imap.host, "port": provider.imap.port},
            {"type": "smtp", "name": provider.smtp.host, "port": provider.smtp.port},
            {"type": "caldav", "url": provider.caldav.url, "port": provider.caldav.port},
            {"type": "carddav", "url": provider.carddav.url, "port": provider.carddav.port},
        ],
    }


def install_automx2(folder: Path) -> Path:
    venv = folder / "automx2-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
    ]
    subprocess.run([*pip, "automx2", "gunicorn"], check=True)
    version = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; print(m.version('automx2'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"automx2 {version} installed in a temporary venv")
    return venv


def start(command: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=log.parent,
    )
    wait_for_port(port, timeout=60, process=process, what=command[0], log=log)
    return process


def get(url: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    with urllib.request.urlopen(request, timeout=30) as reply:  # loopback only
        return reply.status, reply.read()


_DURATION = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _DURATION[match.group(2)]


def run_wrk(url: str, duration: int, script: Path | None) -> Result:
    command = ["wrk", "-t2", "-c8", f"-d{duration}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Result(rps, p50, p99, int(bad.group(1)) if bad else 0)


LUA_NEW_ADDRESS = """
counter = 0
request = function()
  counter = counter + 1
  local who = "u" .. math.random(1, 1000000000) .. "x" .. counter
  return wrk.format("GET", "{path}" .. who .. "@{domain}")
end
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs per pair")
    parser.add_argument("--access-log", action="store_true", help="our access log at info")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("serve_bench: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    folder = Path(tempfile.mkdtemp(prefix="mailsetup-serve-bench-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        venv = install_automx2(folder)
        # automx2 ---------------------------------------------------------------------------
        conf = folder / "automx2.conf"
        conf.write_text(
            f"[automx2]\nloglevel = WARNING\ndb_echo = no\n"
            f"db_uri = sqlite:///{folder / 'automx2.sqlite3'}\nproxy_count = 0\n"
        )
        amx_port = free_port()
        amx_env = {**os.environ, "AUTOMX2_CONF": str(conf)}
        processes.append(
            start(
                [
                    str(venv / "bin" / "gunicorn"),
                    "-w",
                    str(args.workers),
                    "-b",
                    f"{LOOPBACK}:{amx_port}",
                    "automx2.server:app",
                ],
                amx_env,
                folder / "automx2.log",
                amx_port,
            )
        )
        amx = f"http://{LOOPBACK}:{amx_port}"
        status, _ = get(
            amx + "/initdb/", json.dumps(seed_from_provider()).encode(), "application/json"
        )
        assert status == 200, status
        # mailsetup -------------------------------------------------------------------------
        our_port = free_port()
        our_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MAILSETUP_")},
            "MAILSETUP_SERVE_DOMAINS": DOMAIN,
            "MAILSETUP_SERVE_DB": f"sqlite:///{folder / 'serve.sqlite3'}",
            "MAILSETUP_SERVE_LOG_LEVEL": "info" if args.access_log else "warning",
        }
        processes.append(
            start(
                [
                    str(BIN / "gunicorn"),
                    "-k",
                    "uvicorn_worker.UvicornWorker",
                    "-w",
                    str(args.workers),
                    "-b",
                    f"{LOOPBACK}:{our_port}",
                    "mailsetup.serve.app:create_app()",
                ],
                our_env,
                folder / "mailsetup.log",
                our_port,
            )
        )
        ours = f"http://{LOOPBACK}:{our_port}"

        endpoints = {
            "autoconfig": (
                "/mail/config-v1.1.xml?emailaddress=",
                "/mail/config-v1.1.xml?emailaddress=",
            ),
            "apple profile": ("/mobileconfig/?emailaddress=", "/mobileconfig?emailaddress="),
        }
        for amx_path, our_path in endpoints.values():  # both answer before we measure
            for base, path in ((amx, amx_path), (ours, our_path)):
                status, body = get(base + path + ADDRESS)
                assert status == 200 and b"mail.infomaniak.com" in body, (base, status, body[:200])

        print(
            f"\nwrk -t2 -c8 -d{args.duration}s, gunicorn -w {args.workers} for both, "
            f"{args.rounds} alternating rounds (median), {os.cpu_count()} CPUs\n"
        )
        header = (
            f"{'endpoint':<16}{'scenario':<14}{'server':<11}"
            f"{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}"
        )
        print(header)
        print("-" * len(header))
        summary: list[float] = []
        for name, (amx_path, our_path) in endpoints.items():
            for scenario in ("same address", "new address"):
                runs: dict[str, list[Result]] = {"automx2": [], "mailsetup": []}
                for _ in range(args.rounds):
                    for server, base, path in (
                        ("automx2", amx, amx_path),
                        ("mailsetup", ours, our_path),
                    ):
                        script = None
                        url = base + path + ADDRESS
                        if scenario == "new address":
                            script = folder / f"new-{server}-{abs(hash(path))}.lua"
                            script.write_text(
                                LUA_NEW_ADDRESS.replace("{path}", path).replace("{domain}", DOMAIN)
                            )
                            url = base + "/"
                        runs[server].append(run_wrk(url, args.duration, script))
                medians = {
                    server: Result(
                        statistics.median(r.rps for r in rs),
                        statistics.median(r.p50_ms for r in rs),
                        statistics.median(r.p99_ms for r in rs),
                        sum(r.non_2xx for r in rs),
                    )
                    for server, rs in runs.items()
                }
                ratio = medians["mailsetup"].rps / medians["automx2"].rps
                summary.append(ratio)
                for server, m in medians.items():
                    shown = f"{ratio:>7.1f}x" if server == "mailsetup" else ""
                    print(
                        f"{name:<16}{scenario:<14}{server:<11}{m.rps:>9.0f}{m.p50_ms:>9.2f}"
                        f"{m.p99_ms:>9.2f}{shown:>8}"
                        + (f"  ({m.non_2xx} non-2xx!)" if m.non_2xx else "")
                    )
        print(
            f"\nratios: {', '.join(f'{r:.1f}x' for r in summary)}; goal >= 8x, floor 4x: "
            + (
                "goal met"
                if min(summary) >= 8
                else "floor met"
                if min(summary) >= 4
                else "BELOW FLOOR"
            )
        )
        return 0
    finally:
        for process in processes:
            stop_process(process, timeout=10)
        time.sleep(0.2)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
