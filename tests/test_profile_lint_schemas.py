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
