"""Signing and profile inspection: what they add to a command, as ratios.

Prints the median wall and CPU time over N runs (after one warm-up run that also writes the bytecode
caches) of:

Ratios are of CPU time (the child's user + system time), with wall time beside them.

- ``mailsetup profile -o -`` (unsigned) and the same with ``--sign-cert/--sign-key/--sign-chain``
  (RSA 2048 and EC P-256 test certificates from a throw-away trustme CA): target <= 1.2x;
- the same with the test roots added to a copy of the system's CA bundle (``SSL_CERT_FILE``),
  so that the chain reaches a trusted root and is checked all the way ("Verified"): an RSA
  chain (as Let's Encrypt's RSA certificates), an EC chain (as its ECDSA ones), and an RSA
  certificate under an EC CA (trustme's default, the costliest: both algorithms load);
- ``mailsetup inspect`` of the unsigned and of the signed profile, against ``mailsetup profile``:
  target < 1.0x (inspecting a profile costs less than making one);
- in-process, the signing step alone (the CMS operation, cryptography already imported) and the
  import of the modules it needs, so a regression can be placed.

Usage: python benchmarks/sign_bench.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The tests' environment rule (no MAILSETUP_* variables), with bytecode caches written:
    a benchmark measures warm runs, as people run the command."""
    from tests.cli import clean_env

    env = clean_env(extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def median_seconds(
    calls: dict[str, tuple[list[str], dict[str, str] | None]], runs: int, cwd: Path
) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command, run in rounds (one run of each command per
    round) so that a machine getting busier or quieter during the benchmark shifts every
    command alike instead of the ratio. CPU time (user + system of the child, from getrusage)
    is what the ratios use: on a shared, loaded machine wall time mostly measures the
    neighbours, while the work a command does stays the same."""
    envs = {name: _clean_env(extra) for name, (_, extra) in calls.items()}
    for name, (cmd, _) in calls.items():  # warm-up: bytecode caches, file caches
        subprocess.run(
            cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=envs[name]
        )
    walls: dict[str, list[float]] = {name: [] for name in calls}
    cpus: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(runs):
        for name, (cmd, _) in calls.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(
                cmd,
                cwd=cwd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                env=envs[name],
            )
            walls[name].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {n: (statistics.median(walls[n]), statistics.median(cpus[n])) for n in calls}


def in_process(leaf_cert: Path, leaf_key: Path, chain: Path, runs: int) -> tuple[float, float]:
    """(median seconds of one CMS signature, seconds to import what signing needs)."""
    code = (
        "import time, sys\n"
        "t = time.perf_counter()\n"
        "from mailsetup.mobileconfig.sign import SignRequest, load_signer, sign_bytes\n"
        "from mailsetup.mobileconfig import keys\n"
        "from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa\n"
        "print(time.perf_counter() - t)\n"
    )
    imports = float(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
        ).stdout
    )
    from mailsetup.mobileconfig.sign import SignRequest, load_signer, sign_bytes

    signer = load_signer(SignRequest(leaf_cert, leaf_key, chain))
    data = (REPO / "tests/golden/infomaniak-apple.mobileconfig").read_bytes()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sign_bytes(data, signer)
        times.append(time.perf_counter() - start)
    return statistics.median(times), imports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    from mailsetup.mobileconfig.trust import BUNDLES
    from tests.support.signing import SigningCA

    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ca = SigningCA(work)
        rsa, ec = ca.leaf(), ca.leaf(key_type="ec")
        base = [py, "-m", "mailsetup", "profile", "--email", "jane.doe@example.ch"]

        def signed(leaf: object) -> list[str]:
            return [
                *base,
                "--sign-cert",
                str(leaf.cert),
                "--sign-key",
                str(leaf.key),  # type: ignore[attr-defined]
                "--sign-chain",
                str(leaf.chain),
                "-o",
                "-",  # type: ignore[attr-defined]
            ]

        plain_file, signed_file = work / "plain.mobileconfig", work / "signed.mobileconfig"
        subprocess.run([*base, "-o", str(plain_file)], check=True, capture_output=True)
        subprocess.run([*signed(rsa)[:-2], "-o", str(signed_file)], check=True, capture_output=True)
        (work / "rsa-ca").mkdir()
        (work / "ec-ca").mkdir()
        rsa_ca, ec_ca = SigningCA(work / "rsa-ca", ca_key_type="rsa"), SigningCA(work / "ec-ca")
        rsa_chain, ec_chain = rsa_ca.leaf(), ec_ca.leaf(key_type="ec")
        bundle = work / "bundle-with-test-roots.pem"
        system = next((Path(b) for b in BUNDLES if Path(b).is_file()), None)
        roots = b"".join(c.root_path.read_bytes() for c in (ca, rsa_ca, ec_ca))
        bundle.write_bytes((system.read_bytes() if system else b"") + roots)
        trusted_env = {"SSL_CERT_FILE": str(bundle)}
        trusted = {
            "profile --sign-* (RSA chain to a trusted root)": signed(rsa_chain),
            "profile --sign-* (EC chain to a trusted root)": signed(ec_chain),
            "profile --sign-* (RSA under an EC CA, trusted root)": signed(rsa),
        }
        for cmd in trusted.values():  # the path is checked all the way
            env = {**os.environ, **trusted_env}
            said = subprocess.run(cmd, capture_output=True, env=env, check=True).stderr
            assert b"show it as Verified" in said, said
        inspect = [py, "-m", "mailsetup", "inspect"]
        calls: dict[str, tuple[list[str], dict[str, str] | None]] = {
            "profile (unsigned)": ([*base, "-o", "-"], None),
            "profile --sign-* (RSA 2048)": (signed(rsa), None),
            "profile --sign-* (EC P-256)": (signed(ec), None),
            **{name: (cmd, trusted_env) for name, cmd in trusted.items()},
            "inspect unsigned .mobileconfig": ([*inspect, str(plain_file)], None),
            "inspect signed .mobileconfig": ([*inspect, str(signed_file)], None),
        }
        results = median_seconds(calls, args.runs, work)
        cms, imports = in_process(rsa.cert, rsa.key, rsa.chain, args.runs)
    width = max(map(len, results))
    print(f"{'':<{width}}  {'wall':>9}  {'CPU':>9}")
    for name, (wall, cpu) in results.items():
        print(f"{name:<{width}}  {wall * 1000:6.1f} ms  {cpu * 1000:6.1f} ms")
    unsigned = results["profile (unsigned)"]
    print("\nratios (CPU time; wall time in brackets)")
    for name in ("profile --sign-* (RSA 2048)", "profile --sign-* (EC P-256)", *trusted):
        cpu, wall = results[name][1] / unsigned[1], results[name][0] / unsigned[0]
        print(f"{name} / unsigned: {cpu:.2f}x [{wall:.2f}x] (target <= 1.2x)")
    for name in ("inspect unsigned .mobileconfig", "inspect signed .mobileconfig"):
        cpu, wall = results[name][1] / unsigned[1], results[name][0] / unsigned[0]
        print(f"{name} / profile: {cpu:.2f}x [{wall:.2f}x] (target < 1.0x)")
    print(
        f"one CMS signature in process: {cms * 1000:.2f} ms;"
        f" importing what signing needs: {imports * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
