"""The schemas the linter ships are Apple's, unchanged, with their licence, and the compact
index ``inspect`` reads is exactly what the YAML says."""

from __future__ import annotations

from mailsetup.mobileconfig.schema import INDEX, SCHEMA_DIR, build_index, render_index
from tests.apple_schema import schema_dir


def test_index_is_derived_from_the_shipped_yaml() -> None:
    assert INDEX.read_text(encoding="utf-8") == render_index(build_index(SCHEMA_DIR)), (
        "run `python -m mailsetup.mobileconfig.schema` after changing schemas/*.yaml"
    )


def test_shipped_yaml_is_apples_unchanged_with_licence() -> None:
    reference = schema_dir()
    shipped = sorted(p.name for p in SCHEMA_DIR.glob("*.yaml"))
    assert shipped == sorted(p.name for p in reference.glob("*.yaml"))
    for name in shipped:
        assert (SCHEMA_DIR / name).read_bytes() == (reference / name).read_bytes(), name
    assert (SCHEMA_DIR / "LICENSE.txt").read_bytes() == (reference / "LICENSE.txt").read_bytes()
    assert "Apple Inc." in (SCHEMA_DIR / "LICENSE.txt").read_text(encoding="utf-8")


def test_lint_and_the_conformance_helper_agree_on_required_keys() -> None:
    """tests/apple_schema.py reads the YAML directly; the index must say the same."""
    from tests.apple_schema import load

    index = build_index(SCHEMA_DIR)
    for ptype in ("TopLevel", "com.apple.mail.managed", "com.apple.caldav.account"):
        required = {k for k, spec in load(ptype).items() if spec.get("presence") == "required"}
        assert required == {k for k, s in index[ptype].items() if s["presence"] == "required"}


def test_docs_list_every_finding_code_and_no_other() -> None:
    import re
    from pathlib import Path

    from mailsetup.mobileconfig.findings import CODES

    text = (Path(__file__).resolve().parent.parent / "docs/apple.md").read_text(encoding="utf-8")
    section = text.split("### Lint rules", 1)[1]
    documented: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            documented.update(re.findall(r"`([a-z-]+)`", first_cell))
    assert documented == set(CODES)


def test_every_code_in_the_source_is_catalogued() -> None:
    """The kebab-case literals in mailsetup/mobileconfig are exactly the catalogued codes: a
    new code without a CODES entry (and so without a docs row) fails here."""
    import re
    from pathlib import Path

    from mailsetup.mobileconfig.findings import CODES

    folder = Path(__file__).resolve().parent.parent / "mailsetup/mobileconfig"
    used: set[str] = set()
    for path in folder.glob("*.py"):
        if path.name != "findings.py":
            used |= set(re.findall(r'"([a-z]+(?:-[a-z]+)+)"', path.read_text(encoding="utf-8")))
    assert used == set(CODES)


def test_findings_carry_their_catalogued_severity() -> None:
    import plistlib
    from pathlib import Path

    from mailsetup.mobileconfig.findings import CODES
    from mailsetup.mobileconfig.lint import lint_profile
    from tests.support import profiles

    golden = Path(__file__).resolve().parent.parent / "tests/golden/infomaniak-apple.mobileconfig"
    plist = plistlib.loads(golden.read_bytes())
    plist.pop("PayloadVersion")
    plist["PayloadContent"][0]["IncomingPassword"] = "x"
    plist["PayloadContent"][1]["CalDAVPort"] = "443"
    for sample in (plist, profiles.mailcow_shape(), profiles.mailinabox_shape()):
        for finding in lint_profile(sample, signed=False):
            assert CODES[finding.code] == finding.severity, finding
