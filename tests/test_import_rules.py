"""The layer rules of docs/architecture.md, checked over the source with ``ast``.

- ``check/`` and ``inspect/`` never import ``render/`` (they share the model, not the writers);
- renderers never import modules that do I/O or parse the command line (``output``,
  ``secret_store``, ``cli``, ``commands``): they stay pure functions of plain data;
- module-level imports form no cycle (lazy imports inside functions do not count: they run
  after every module involved has finished loading).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailsetup"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str, *, top_level_only: bool) -> set[str]:
    """Our modules that ``name`` imports (``from a import b`` counts ``a.b`` when it is one)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m in MODULES and m != name}


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_rules_see_the_package() -> None:
    # A rule over an empty set cannot fail: make sure the walk finds the layers.
    assert any(under(m, "mailsetup.render") for m in MODULES)
    assert "mailsetup.output" in imports("mailsetup.commands.profile", top_level_only=False)


def test_check_and_inspect_never_import_render() -> None:
    bad = {
        (m, i)
        for m in MODULES
        if under(m, "mailsetup.check") or under(m, "mailsetup.inspect")
        for i in imports(m, top_level_only=False)
        if under(i, "mailsetup.render")
    }
    assert not bad


def test_renderers_import_no_io_and_no_cli() -> None:
    forbidden = (
        "mailsetup.output",
        "mailsetup.secret_store",
        "mailsetup.cli",
        "mailsetup.commands",
    )
    bad = {
        (m, i)
        for m in MODULES
        if under(m, "mailsetup.render")
        for i in imports(m, top_level_only=False)
        if any(under(i, f) for f in forbidden)
    }
    assert not bad


def test_no_import_cycles() -> None:
    graph = {m: imports(m, top_level_only=True) for m in MODULES}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(n) :], n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_architecture_page_names_only_modules_that_exist() -> None:
    """docs/architecture.md stays true: every ``x.py`` or ``pkg/x.py`` it names is a module."""
    import re

    page = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    files = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}
    names = {p.rsplit("/", 1)[-1] for p in files}
    missing = set()
    for ref in set(re.findall(r"(?:mailsetup/)?\b([a-z_]+/)?([a-z_<>]+\.py)\b", page)):
        folder, name = ref
        if "<" in name:  # a pattern such as render/<name>.py
            continue
        if folder == "tests/":
            if not (PACKAGE.parent / folder / name).is_file():
                missing.add(folder + name)
            continue
        if (folder and f"{folder}{name}" not in files) or (not folder and name not in names):
            missing.add(folder + name)
    assert not missing, missing


def test_code_and_docs_point_at_nothing_outside_the_repository() -> None:
    """A reader of the repository alone must find everything the code and docs refer to; the
    notes the project was started from live beside it, not in it (tests may read the Apple
    schemas there, tests/apple_schema.py)."""
    root = PACKAGE.parent
    texts = [*PACKAGE.rglob("*.py"), *(root / "docs").rglob("*.md"), root / "README.md"]
    outside = ("../shared", "FACTS.md", "STYLE.md")
    bad = [
        f"{path.relative_to(root)}: {word}"
        for path in texts
        for word in outside
        if word in path.read_text(encoding="utf-8")
    ]
    assert not bad, bad
