"""The fault catalogue is the one list: probes use it, hints read it, docs/check.md mirrors it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mailsetup.check.faults import CATALOGUE, FaultName
from mailsetup.check.hints import FIELDS

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "check.md"
CHECK = ROOT / "mailsetup" / "check"


def _documented() -> dict[str, str]:
    """``{fault: status}`` from the fault table of docs/check.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("### Fault classes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (warn|fail) \|", section, flags=re.M)
    return dict(rows)


def test_every_fault_is_documented_and_every_documented_fault_exists() -> None:
    documented = _documented()
    catalogue = {spec.name.value: spec.status for spec in CATALOGUE.values()}
    assert set(catalogue) - set(documented) == set(), "faults missing from docs/check.md"
    assert set(documented) - set(catalogue) == set(), "docs/check.md lists unknown faults"
    assert documented == catalogue, "a fault's status differs between the docs and the code"


def test_the_catalogue_covers_every_name_once() -> None:
    assert set(CATALOGUE) == set(FaultName)
    assert all(CATALOGUE[f].name is f for f in FaultName)


def test_hint_templates_use_known_fields_only() -> None:
    for spec in CATALOGUE.values():
        for field in re.findall(r"\{(\w+)\}", spec.hint or ""):
            assert field in FIELDS, (spec.name, field)


def _fault_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in ("Fault", "of")
    ]


def test_probes_name_faults_from_the_catalogue_not_with_strings() -> None:
    """``Fault("refused", ...)`` would bypass the catalogue (a typo would be a new fault)."""
    offenders = []
    calls = 0
    for path in sorted(CHECK.glob("*.py")):
        for call in _fault_calls(ast.parse(path.read_text(encoding="utf-8"))):
            calls += 1
            first = call.args[0] if call.args else None
            if isinstance(first, ast.Constant | ast.JoinedStr):
                offenders.append(f"{path.name}:{call.lineno}")
    assert calls > 50  # the walk does see the probes' faults
    assert offenders == []
