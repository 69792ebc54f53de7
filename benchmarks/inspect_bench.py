"""Benchmark: ``mailsetup inspect`` on a 20 MB .ics with 50,000 events vs vobject's bare parse.

Run: ``.venv/bin/python benchmarks/inspect_bench.py [--events 50000] [--repeat 1]``

Each measurement runs in a fresh interpreter (no warm caches, vobject's time zone registry
empty), timed with ``time.perf_counter`` around the work only; peak memory is the child's
maximum resident set size (``resource.getrusage``), and the interpreter's resident size after
imports is printed beside it so the growth due to the file can be read off.

A third run splits the file with a limit of half its size (parts written beside it): reading it
once to inspect and plan, then once more part by part, never whole.

The bare parse is what any vobject user would write: ``vobject.readComponents`` over the whole
file (it reads the file into one string and builds every event as objects). ``inspect`` reads it
line by line, one component at a time, and does its checks on top. Target: ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
path = sys.argv[2]
if sys.argv[1] in ("inspect", "split"):
    from pathlib import Path
    from mailsetup.inspect import inspect_file
    from mailsetup.inspect.vparse import quiet_vobject
    import vobject  # imports are not what we measure
    quiet_vobject()
    split = sys.argv[1] == "split"
    # --split: a limit of half the file, parts written beside it.
    limit = Path(path).stat().st_size // 2 if split else 20 * 1024 * 1024
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    report = inspect_file(
        Path(path), limit, split_dir=Path(path).parent if split else None, force=True
    )
    elapsed = time.perf_counter() - t
    count = report.stats["events"]
    ok = report.will_import and (len(report.split_into) >= 2 or not split)
elif sys.argv[1] == "icalendar":
    import icalendar
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with open(path, "rb") as fh:
        cal = icalendar.Calendar.from_ical(fh.read())
    count = len(cal.walk("VEVENT"))
    elapsed = time.perf_counter() - t
    ok = True
else:
    import vobject
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        count = sum(len(c.contents.get("vevent", [])) for c in vobject.readComponents(fh))
    elapsed = time.perf_counter() - t
    ok = True
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = {"seconds": elapsed, "peak_kib": peak, "base_kib": base, "events": count, "ok": ok}
print(json.dumps(result))
"""


def measure(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


GENERATE = r"""
import sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from tests.support.samples import calendar
Path(sys.argv[1]).write_bytes(calendar(int(sys.argv[2])))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.ics"
        # Generated in a child: Linux keeps a process's peak RSS across fork+exec, so the
        # measuring children must be spawned from a parent that never held the file.
        subprocess.run(
            [sys.executable, "-c", GENERATE, str(path), str(args.events), str(ROOT)],
            check=True,
            timeout=600,
        )
        size = path.stat().st_size
        print(f"file: {args.events} events, {size} bytes ({size / 1e6:.1f} MB)")
        results: dict[str, dict[str, float]] = {}
        kinds = ("icalendar", "bare", "inspect", "split")
        for _ in range(args.repeat):
            for kind in kinds:
                r = measure(kind, path)
                assert r["events"] == args.events and r["ok"], r
                if kind not in results or r["seconds"] < results[kind]["seconds"]:
                    results[kind] = r
        labels = {
            "icalendar": "icalendar.from_ical",
            "bare": "vobject.readComponents",
            "inspect": "mailsetup inspect",
            "split": "inspect --split (1/2)",
        }
        for kind, label in labels.items():
            r = results[kind]
            print(
                f"{label:24s} {r['seconds']:7.2f} s   peak RSS {r['peak_kib'] / 1024:7.1f} MiB"
                f" (after imports {r['base_kib'] / 1024:.1f} MiB)"
            )
        ins = results["inspect"]
        for kind, label in (("icalendar", "icalendar"), ("bare", "vobject")):
            other = results[kind]
            print(
                f"inspect / {label} parse: time {ins['seconds'] / other['seconds']:.3f},"
                f" peak RSS growth {(ins['peak_kib'] - ins['base_kib']) / 1024:.1f} MiB"
                f" vs {(other['peak_kib'] - other['base_kib']) / 1024:.1f} MiB"
                f" (peak RSS ratio {ins['peak_kib'] / other['peak_kib']:.3f})"
            )
        print("target: time <= 0.1 x icalendar's parse, peak memory flat")


if __name__ == "__main__":
    main()
