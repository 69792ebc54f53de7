"""One sweep over every command (issue 10, "Done when"): with another provider's file, no output
of any command names Infomaniak, its products or its sync-id format.

The per-area tests (test_provider_neutral.py for renderers, test_check_provider_neutral.py for
check against real servers, test_inspect_catalogue.py for inspect) go deep; this one goes wide,
through the CLI as a user runs it: every client and format of the registry, check's table and
JSON (with and without --login, every probe failing so every row carries its hint), inspect's
table and JSON, the client list of ``providers``, and every help text. Help texts may name the
default provider; they may show its products or sync-id format only next to its name.
"""

from __future__ import annotations

import re
from pathlib import Path

from mailsetup.clients import CLIENTS
from tests.cli import run
from tests.test_provider_neutral import ACME, FOREIGN


def _acme(port: int) -> str:
    """The Acme Mail file of test_provider_neutral.py with every server on a refused loopback
    port: every probe fails at once, so every check row carries its hint."""
    text = re.sub(r'host = "[^"]+"', 'host = "localhost"', ACME)
    text = re.sub(r"port = \d+", f"port = {port}", text)
    return re.sub(r'url = "https://[^"]+"', f'url = "https://localhost:{port}"', text)


EMAIL = "jane@example.test"  # .test: the reserved zone the runner allows (tests/cli.py)
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:1@t\r\n"
    "DTSTAMP:20250101T000000Z\r\nDTSTART:20250101T100000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)
VCF = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jane\r\nN:Doe;Jane;;;\r\nEND:VCARD\r\n"


def _texts_of(folder: Path) -> list[str]:
    return [
        p.read_bytes().decode("utf-8", "replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix != ".png"
    ]


def _outputs(tmp_path: Path, port: int) -> list[tuple[str, str]]:
    """(what, text) for every output of every command run with the Acme file."""
    acme = tmp_path / "acme.toml"
    acme.write_text(_acme(port))
    pf = ("--provider-file", str(acme))
    out: list[tuple[str, str]] = []

    def record(what: str, *args: str, env: dict[str, str] | None = None) -> None:
        proc = run(*args, env=env, test_domains=True)
        assert "Traceback" not in proc.stderr, (what, proc.stderr)
        out.append((what, proc.stdout + proc.stderr))

    for spec in CLIENTS.values():
        for fmt in spec.formats:
            for sync in ((), ("--sync-user", "acme-42")):
                what = f"profile {spec.name} {fmt.name} {sync}"
                folder = tmp_path / what.replace(" ", "_")
                args = ["profile", "-e", EMAIL, "-c", spec.name, *pf, *sync]
                args += ["--format", fmt.name] if fmt.name else []
                record(what, *args, "-o", f"{folder}/")
                written = _texts_of(folder)
                assert written or not sync, what  # with a sync user every format writes
                out += [(what, text) for text in written]
    secrets = {"MAILSETUP_PASSWORD": "x", "MAILSETUP_SYNC_PASSWORD": "y"}
    for login in ((), ("--login", "--sync-user", "acme-42")):
        for form in ((), ("--json",)):
            record(
                f"check {login} {form}",
                "check", "-e", EMAIL, *pf, *login, *form, "--timeout", "2",
                "--resolver", f"127.0.0.1:{port}",
                env=secrets,
            )  # fmt: skip
    files = {"ok.ics": ICS, "ok.vcf": VCF, "bad.ics": "BEGIN:VCALENDAR\r\nnot ics\r\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for form in ((), ("--json",)):
        paths = [str(tmp_path / n) for n in files]
        record(f"inspect {form}", "inspect", *paths, str(tmp_path / "missing.ics"), *pf, *form)
    providers = run("providers").stdout
    out.append(("providers: clients", providers[providers.index("Clients") :]))
    return out


def test_no_output_of_any_command_names_the_default_provider(
    tmp_path: Path, refused_port: int
) -> None:
    outputs = _outputs(tmp_path, refused_port)
    found = [(what, m.group()) for what, text in outputs for m in FOREIGN.finditer(text)]
    assert not found, found
    joined = "\n".join(text for _, text in outputs)
    # It did run for Acme: its names, check's failing rows with hints, inspect's verdicts.
    assert "Acme Mail" in joined and "acme.mailsetup" in joined
    assert "hint" in joined and "refused" in joined
    assert "ok.vcf" in joined and "bad.ics" in joined


def test_help_texts_show_default_provider_facts_only_next_to_its_name() -> None:
    """Help may name the default provider (it is the default); its products and sync-id format
    appear only in a clause that says they are the default provider's."""
    for command in ("", "profile", "check", "inspect", "providers", "password", "password set"):
        proc = run(*command.split(), "--help")
        assert proc.returncode == 0, proc.stderr
        text = " ".join(proc.stdout.split())
        for clause in re.split(r"[;()\[\]]|(?<!e\.g)\.(?:\s|$)", text):
            if FOREIGN.search(clause):
                assert "Infomaniak" in clause, (command, clause)
