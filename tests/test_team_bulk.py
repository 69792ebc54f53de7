"""``mailsetup profile --csv team.csv -o out/``: what the IT helper sees on disk and on screen.

Every file is read back by its consumer's rules: Apple profiles against Apple's schemas, user.js
with node and the pref parser, index.csv with the csv module and SHA-256 of the real bytes.
"""

from __future__ import annotations

import csv
import hashlib
import os
import plistlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from mailsetup.errors import EXIT_CODES
from tests.apple_schema import validate_profile
from tests.cli import assert_one_line_error, clean_env, on_a_terminal, run
from tests.conftest import require_binary
from tests.prefs_js import parse_user_js, prefs_from_node

REPO = Path(__file__).resolve().parent.parent

TEAM = (
    "email;name;sync_user;client\r\n"
    "jane.doe@example.ch;Doe, Jane;AB12345;\r\n"
    'info@example.ch;"Info ""Desk""";AB12345;thunderbird\r\n'
    "jane/x@example.ch;Slash;;\r\n"
    "bad address;Nobody;;\r\n"
    "JANE.DOE@example.ch;Again;;\r\n"
    "zoe@example.ch;Zoë <Z> &;CD67890;emclient\r\n"
)


def team_csv(tmp_path: Path, text: str = TEAM) -> Path:
    path = tmp_path / "team.csv"
    path.write_text(text, encoding="utf-8")
    return path


def index_rows(out: Path) -> list[dict[str, str]]:
    with (out / "index.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def files_on_disk(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "index.csv"
    }


def test_good_rows_written_bad_rows_named_exit_6(tmp_path):
    out = tmp_path / "out"
    proc = run("profile", "--csv", str(team_csv(tmp_path)), "-o", str(out))
    assert proc.returncode == 6, proc.stderr
    assert EXIT_CODES[6].startswith("some rows of a --csv file failed")
    err = proc.stderr.splitlines()
    assert err[0].startswith("mailsetup: row 5 (bad address): ")
    assert "not a valid email address" in err[0]
    assert err[1] == ("mailsetup: row 6 (JANE.DOE@example.ch): duplicate address: already in row 2")
    assert err[-1].startswith("mailsetup: error: 2 of 6 rows failed; the other rows were written")
    assert "Traceback" not in proc.stderr

    on_disk = files_on_disk(out)
    assert set(on_disk) == {
        "jane.doe@example.ch.mobileconfig",
        "jane_x@example.ch.mobileconfig",  # "/" in the address never makes a folder
        "info@example.ch-thunderbird/config-v1.1.xml",
        "info@example.ch-thunderbird/user.js",
        "info@example.ch-thunderbird/README.txt",
        "zoe@example.ch-emclient/autodiscover.xml",
        "zoe@example.ch-emclient/setup-sheet.md",
        "zoe@example.ch-emclient/setup-sheet.html",
    }
    index = index_rows(out)
    assert list(index[0]) == ["row", "email", "file", "sha256", "status", "reason"]
    for entry in index:
        if entry["status"] == "failed":
            assert entry["file"] == "" and entry["reason"]
            continue
        assert entry["status"] == "written" and entry["reason"] == ""
        assert hashlib.sha256(on_disk[entry["file"]]).hexdigest() == entry["sha256"]
    assert [(e["row"], e["status"]) for e in index if e["status"] == "failed"] == [
        ("5", "failed"),
        ("6", "failed"),
    ]
    assert {e["file"] for e in index if e["file"]} == set(on_disk)
    assert not list(out.glob(".*"))  # no temporary file left

    # Each Apple profile is one person's, and valid by Apple's own schemas.
    jane = plistlib.loads(on_disk["jane.doe@example.ch.mobileconfig"])
    assert validate_profile(jane) == []
    mail = next(p for p in jane["PayloadContent"] if p["PayloadType"] == "com.apple.mail.managed")
    assert (mail["EmailAddress"], mail["EmailAccountName"]) == ("jane.doe@example.ch", "Doe, Jane")
    assert validate_profile(plistlib.loads(on_disk["jane_x@example.ch.mobileconfig"])) == []
    prefs = dict(parse_user_js(on_disk["info@example.ch-thunderbird/user.js"].decode()))
    assert 'Info "Desk"' in prefs.values()


def test_same_csv_again_same_bytes_unchanged_not_rewritten(tmp_path):
    out = tmp_path / "out"
    path = team_csv(tmp_path)
    run("profile", "--csv", str(path), "-o", str(out))
    before = files_on_disk(out)
    stamps = {p: (out / p).stat().st_mtime_ns for p in before}
    inodes = {p: (out / p).stat().st_ino for p in before}
    time.sleep(0.05)
    proc = run("profile", "--csv", str(path), "-o", str(out))
    assert proc.returncode == 6
    assert files_on_disk(out) == before
    assert {p: (out / p).stat().st_mtime_ns for p in before} == stamps
    assert {p: (out / p).stat().st_ino for p in before} == inodes
    statuses = {e["status"] for e in index_rows(out)}
    assert statuses == {"unchanged", "failed"}
    assert "8 unchanged" in proc.stdout


def test_changed_row_needs_force(tmp_path):
    out = tmp_path / "out"
    path = team_csv(tmp_path, "email,name\njane@example.ch,Jane\nbob@example.ch,Bob\n")
    assert run("profile", "--csv", str(path), "-o", str(out)).returncode == 0
    old = (out / "jane@example.ch.mobileconfig").read_bytes()
    path.write_text("email,name\njane@example.ch,Jane Doe\nbob@example.ch,Bob\n")

    proc = run("profile", "--csv", str(path), "-o", str(out))
    assert proc.returncode == 6
    assert "row 2 (jane@example.ch): 'jane@example.ch.mobileconfig' exists with other" in (
        proc.stderr
    )
    assert "--force" in proc.stderr
    assert (out / "jane@example.ch.mobileconfig").read_bytes() == old
    assert {e["email"]: e["status"] for e in index_rows(out)} == {
        "jane@example.ch": "failed",
        "bob@example.ch": "unchanged",
    }

    proc = run("profile", "--csv", str(path), "-o", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert b"Jane Doe" in (out / "jane@example.ch.mobileconfig").read_bytes()
    assert {e["email"]: e["status"] for e in index_rows(out)} == {
        "jane@example.ch": "replaced",
        "bob@example.ch": "unchanged",
    }


def test_dry_run_writes_nothing(tmp_path):
    out = tmp_path / "out"
    proc = run("profile", "--csv", str(team_csv(tmp_path)), "-o", str(out), "--dry-run")
    assert proc.returncode == 6
    assert not out.exists()
    assert "Dry run: nothing was written." in proc.stdout
    assert "row 5 (bad address)" in proc.stderr


def test_atomic_writes_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    proc = run("profile", "--csv", str(team_csv(tmp_path)), "-o", str(out), "--atomic")
    assert proc.returncode == 6
    assert "nothing was written (--atomic)" in proc.stderr
    assert list(out.iterdir()) == []  # the folder, empty: no file, no index, no temporary

    good = team_csv(tmp_path, "email\njane@example.ch\nbob@example.ch\n")
    proc = run("profile", "--csv", str(good), "-o", str(out), "--atomic")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "bob@example.ch.mobileconfig",
        "index.csv",
        "jane@example.ch.mobileconfig",
    ]


def test_an_index_we_did_not_write_is_not_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.csv").write_text("my own notes\n")
    proc = run("profile", "--csv", str(team_csv(tmp_path, "email\na@example.ch\n")), "-o", str(out))
    assert_one_line_error(proc, 4, "was not written by mailsetup", "--force")
    assert (out / "index.csv").read_text() == "my own notes\n"


def test_a_symlink_in_the_way_is_left_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (out / "a@example.ch.mobileconfig").symlink_to(target)
    path = team_csv(tmp_path, "email\na@example.ch\nb@example.ch\n")
    proc = run("profile", "--csv", str(path), "-o", str(out), "--force")
    assert proc.returncode == 6
    assert "not a regular file" in proc.stderr
    assert target.read_text() == "keep"
    assert (out / "b@example.ch.mobileconfig").is_file()


def test_formula_cells_are_neutralised_in_the_index(tmp_path):
    out = tmp_path / "out"
    path = team_csv(tmp_path, 'email\n"=HYPERLINK(""http://x"")"\n-1+1@example.ch\n')
    run("profile", "--csv", str(path), "-o", str(out))
    cells = [e["email"] for e in index_rows(out)]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells), cells


def test_usage_errors(tmp_path):
    path = team_csv(tmp_path, "email\na@example.ch\n")
    assert_one_line_error(run("profile", "--csv", str(path)), 2, "-o DIR")
    assert_one_line_error(
        run("profile", "--csv", str(path), "-o", str(tmp_path), "--embed-password"),
        2,
        "every mailbox has its own password",
    )
    assert_one_line_error(
        run("profile", "--csv", str(path), "-o", str(tmp_path), "-e", "a@example.ch"), 2
    )
    assert_one_line_error(run("profile", "-e", "a@example.ch", "--dry-run"), 2, "--csv")
    assert_one_line_error(run("check"), 2, "--email is required", "--csv")
    assert_one_line_error(run("check", "--csv", str(path), "-e", "a@example.ch"), 2, "--csv")
    header_only = team_csv(tmp_path, "email;name\r\n")
    assert_one_line_error(
        run("profile", "--csv", str(header_only), "-o", str(tmp_path / "o")), 2, "no mailbox rows"
    )


def test_user_js_of_every_thunderbird_row_runs_in_node(tmp_path):
    node = require_binary("node")
    out = tmp_path / "out"
    rows = "".join(f'u{i}@example.ch,"N{i} \\ "" </script>",AB{i}\n' for i in range(3))
    path = team_csv(tmp_path, "email,name,sync_user\n" + rows)
    assert run("profile", "--csv", str(path), "-o", str(out), "-c", "thunderbird").returncode == 0
    for user_js in sorted(out.glob("*/user.js")):
        text = user_js.read_text()
        assert prefs_from_node(node, text) == parse_user_js(text)


def test_ctrl_c_leaves_no_half_written_file_and_says_how_far(tmp_path):
    rows = "".join(f"user{i}@example.ch,User {i},AB{i:05d}\n" for i in range(10_000))
    path = team_csv(tmp_path, "email,name,sync_user\n" + rows)
    out = tmp_path / "out"
    env = clean_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailsetup", "profile", "--csv", str(path), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*.mobileconfig"))) < 600:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    line = stderr.strip().splitlines()[-1]
    match = re.fullmatch(
        r"mailsetup: error: interrupted at row (\d+): no half-written file; (\d+) rows are done "
        r"and listed in .*index\.csv \(run the same command again: unchanged files are skipped\)",
        line,
    )
    assert match, line
    done = int(match.group(2))
    assert 600 <= done < 10_000
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary file
    written = sorted(p.name for p in out.glob("*.mobileconfig"))
    index = index_rows(out)
    assert len(index) == done == len(written)
    assert sorted(e["file"] for e in index) == written
    for name in written[:: max(1, len(written) // 50)]:
        plistlib.loads((out / name).read_bytes())  # complete, parseable files only

    # Running again finishes the job and skips what is there.
    again = run("profile", "--csv", str(path), "-o", str(out), timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"{done} unchanged" in again.stdout and f"{10_000 - done} written" in again.stdout


def test_exit_code_6_is_documented():
    text = (REPO / "docs/exit-codes.md").read_text()
    assert re.search(r"^\| 6 \| some rows of a `--csv` file failed", text, re.M)
    assert "6" in run("--help").stdout.split("Exit codes:")[1]


def test_progress_bar_on_a_terminal_plain_summary_when_piped(tmp_path):
    rows = "".join(f"user{i}@example.ch\n" for i in range(1500))
    path = team_csv(tmp_path, "email\n" + rows + "bad row\n")
    code, screen = on_a_terminal(
        "profile", "--csv", str(path), "-o", str(tmp_path / "tty"), env={"COLUMNS": "120"}
    )
    assert code == 6, screen
    assert "Writing" in screen and "/1501" in screen  # the bar: rows done of all rows
    assert "\x1b[" in screen  # drawn with terminal control sequences
    assert "row 1502 (bad row)" in screen
    assert "1501 rows: 1500 good, 1 failed" in screen

    piped = run("profile", "--csv", str(path), "-o", str(tmp_path / "piped"))
    assert piped.returncode == 6
    assert "\x1b[" not in piped.stdout + piped.stderr
    assert "Writing" not in piped.stderr
    assert piped.stdout.splitlines()[0] == "1501 rows: 1500 good, 1 failed; files: 1500 written"


def test_outputs_named_after_what_they_are_get_the_address(tmp_path):
    """autodiscover.xml for every row would collide: each row's file carries its address."""
    out = tmp_path / "out"
    path = team_csv(tmp_path, "email,client\na@example.ch,autodiscover\nb@example.ch,dav\n")
    proc = run("profile", "--csv", str(path), "-o", str(out), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert set(files_on_disk(out)) == {"a@example.ch-autodiscover.xml", "b@example.ch-dav.json"}


def test_a_missing_sync_user_is_warned_once_not_per_row(tmp_path):
    out = tmp_path / "out"
    path = team_csv(tmp_path, "email\na@example.ch\nb@example.ch\nc@example.ch\n")
    proc = run("profile", "--csv", str(path), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("mailsetup: warning:")]
    assert len(warnings) == 1 and "--sync-user" in warnings[0], proc.stderr


def test_ctrl_c_before_the_first_row_is_the_one_interrupted_line(tmp_path):
    """Ctrl-C while the CSV is still being read (a FIFO whose writer sends nothing yet): the
    same line as every other command (cli.handles_errors), exit 130, nothing written."""
    fifo = tmp_path / "team.csv"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    env = clean_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mailsetup", "profile", "--csv", str(fifo), "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    writer = None
    deadline = time.monotonic() + 60
    while writer is None and time.monotonic() < deadline and proc.poll() is None:
        try:  # succeeds once mailsetup has the FIFO open for reading: it then waits on read
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            time.sleep(0.02)
    assert writer is not None, proc.communicate(timeout=60)
    try:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        os.close(writer)
    assert proc.returncode == 130, (stdout, stderr)
    assert stderr.strip() == "mailsetup: interrupted"
    assert not out.exists()


def test_a_file_size_limit_hit_while_writing_the_index_is_one_line_exit_4(tmp_path):
    """A real write failure from the kernel (RLIMIT_FSIZE: every write past 24 KiB fails with
    EFBIG; Python ignores SIGXFSZ), reached by index.csv only: each profile is smaller, the
    index of 400 rows is not. One line, exit 4, no traceback, no index.csv put in place."""
    import resource

    rows = "".join(f"user{i}@example.ch\n" for i in range(400))
    path = team_csv(tmp_path, "email\n" + rows)
    out = tmp_path / "out"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (24 * 1024, 24 * 1024))

    env = clean_env()
    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "profile", "--csv", str(path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=limit,
    )
    assert_one_line_error(proc, 4, "index.csv")
    assert not (out / "index.csv").exists()
