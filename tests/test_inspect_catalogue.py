"""One catalogue of inspect's problem codes, the docs table agreeing with it both ways, and
provider-neutral output (issue 10 §1 and §4)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mailsetup.inspect.codes import CATALOGUE
from tests.cli import invoke
from tests.support import samples

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "calendars-contacts.md"


def documented() -> dict[str, set[str]]:
    """Code -> severities, from the table under "What each problem means"."""
    text = DOC.read_text()
    section = text.split("### What each problem means", 1)[1].split("\n#", 1)[0]
    table: dict[str, set[str]] = {}
    for row in section.splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        severities = set(re.findall(r"\b(error|warning)\b", cells[1]))
        for code in re.findall(r"`([a-z0-9-]+)`", cells[0]):
            assert code not in table, f"{code} documented twice"
            table[code] = severities
    return table


def catalogued() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for code in CATALOGUE:
        table.setdefault(code.name, set()).add(code.severity)
    return table


def test_every_catalogued_code_is_documented_with_its_severity():
    docs = documented()
    for name, severities in catalogued().items():
        assert name in docs, f"{name} is missing from {DOC.name}"
        assert docs[name] == severities, name


def test_every_documented_code_is_in_the_catalogue():
    assert set(documented()) - set(catalogued()) == set()


def test_readers_use_codes_by_name_not_as_strings():
    """No reader passes a code as a string literal: ``problems.add(codes.X, ...)``."""
    for path in (ROOT / "mailsetup" / "inspect").glob("*.py"):
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add", "error", "warning")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                raise AssertionError(f"{path.name}:{node.lineno} passes a code as a string")


ACME = """
[provider]
id = "acme"
name = "Acme Mail"
[imap]
host = "imap.acme.test"
port = 993
security = "ssl"
[smtp]
host = "smtp.acme.test"
port = 587
security = "starttls"
[caldav]
url = "https://dav.acme.test"
[carddav]
url = "https://dav.acme.test"
[limits]
ics_max_bytes = 50000
"""


def test_with_another_provider_inspect_never_mentions_infomaniak(tmp_path):
    from tests.test_inspect import BROKEN

    provider = tmp_path / "acme.toml"
    provider.write_text(ACME)
    files = [
        samples.write(tmp_path / "big.ics", samples.calendar(200)),
        samples.write(tmp_path / "broken.ics", BROKEN),
        samples.write(tmp_path / "c.vcf", samples.address_book(20)),
        tmp_path / "missing.ics",
    ]
    outputs = []
    for extra in ([], ["--json"]):
        result = invoke(["inspect", "--provider-file", str(provider), *extra, *map(str, files)])
        assert result.exit_code == 1
        outputs.append(result.output)
    result = invoke(["inspect", "--provider-file", str(provider), "--split", str(files[0])])
    assert result.exit_code == 0, result.output
    outputs.append(result.output)
    joined = "\n".join(outputs)
    assert "50000" in joined  # the limit came from the Acme file
    assert "[too-large]" in outputs[0]
    for word in ("infomaniak", "kdrive", "ksuite", "20971520", "20 mb", "20.0 mb"):
        assert word not in joined.lower(), word


def test_the_bundled_provider_states_its_import_rules():
    result = invoke(["inspect", "-"], input=samples.calendar(3))
    assert result.exit_code == 0, result.output
    assert "(limit 20.0 MB)" in result.output
    assert "import: events go to the Calendar, tasks (VTODO) to the Tasks app" in result.output


def test_without_a_limit_in_the_provider_file_nothing_is_too_large(tmp_path):
    provider = tmp_path / "nolimit.toml"
    provider.write_text(ACME.replace("[limits]\nics_max_bytes = 50000\n", ""))
    big = samples.write(tmp_path / "big.ics", samples.calendar(300))
    result = invoke(["inspect", "--provider-file", str(provider), str(big)])
    assert result.exit_code == 0, result.output
    assert "(limit" not in result.output
    result = invoke(["inspect", "--provider-file", str(provider), "--split", str(big)])
    assert result.exit_code == 2 and "ics_max_bytes" in result.output


def test_a_provider_can_import_journals(tmp_path):
    provider = tmp_path / "journals.toml"
    provider.write_text(ACME + '[calendar_import]\ncomponents = ["VEVENT", "VJOURNAL"]\n')
    cal = tmp_path / "j.ics"
    cal.write_bytes(
        samples.calendar(2, todos=1).replace(
            b"END:VCALENDAR", b"BEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\nEND:VCALENDAR"
        )
    )
    result = invoke(["inspect", "--json", "--provider-file", str(provider), str(cal)])
    counts = __import__("json").loads(result.stdout)["files"][0]["problem_counts"]
    assert counts == {"component-ignored": 1}  # the VTODO; the journal is taken
