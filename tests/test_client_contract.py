"""One contract, every registered client and format (vdirsyncer's shared storage suite idea).

The cases are generated from the registry (mailsetup/clients.py): a client added there is
tested here without writing a line. Each output must be deterministic, parse with the program
(or the parser of the format) that consumes it, survive a hostile display name, match what the
registry declares (one file or a folder, default name, embed policy), and either render or refuse
cleanly (BadInput) for every ``--services`` subset.
"""

from __future__ import annotations

import configparser
import itertools
import json
import plistlib
from html.parser import HTMLParser

import defusedxml.ElementTree as DET
import pytest

from mailsetup.account import make_account
from mailsetup.clients import CLIENTS, ClientSpec, FormatSpec
from mailsetup.errors import BadInput
from mailsetup.model import OutputFile
from mailsetup.provider import load_provider
from mailsetup.render import SERVICES, Rendered, RenderOptions, default_name, embed_policy, render
from tests.conftest import require_binary
from tests.prefs_js import parse_user_js, prefs_from_node

PROVIDER = load_provider()
HOSTILE_NAME = 'Jean "Q" O\'Neil <b>&amp; </b> ]]> 😀 \\ $x'
CASES = [
    pytest.param(spec, fmt, id=f"{spec.name}-{fmt.name}" if fmt.name else spec.name)
    for spec in CLIENTS.values()
    for fmt in spec.formats
]


def _render(
    spec: ClientSpec, fmt: FormatSpec, *, name: str = "Jean Dupont", **options: object
) -> Rendered:
    account = make_account("jean.dupont@example.ch", name, "AB12345")
    return render(spec.name, account, PROVIDER, RenderOptions(format=fmt.name or None, **options))  # type: ignore[arg-type]


def _check_parses(f: OutputFile) -> None:
    """The file parses with the parser of its kind (the real consumer where one runs here)."""
    suffix = f.name.rsplit(".", 1)[-1]
    if suffix == "mobileconfig":
        plistlib.loads(f.data)
    elif suffix in ("xml", "svg"):
        DET.fromstring(f.data)
    elif suffix == "json":
        json.loads(f.data)
    elif suffix == "conf":
        configparser.ConfigParser(interpolation=None).read_string(f.data.decode())
    elif f.name == "user.js":
        parse_user_js(f.data.decode())
    elif suffix == "html":
        HTMLParser().feed(f.data.decode())
    elif suffix == "png":
        assert f.data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        f.data.decode("utf-8")  # text for a person: at least valid UTF-8


@pytest.mark.parametrize(("spec", "fmt"), CASES)
def test_same_input_same_bytes(spec: ClientSpec, fmt: FormatSpec) -> None:
    first, second = _render(spec, fmt), _render(spec, fmt)
    assert [(f.name, f.data) for f in first.files] == [(f.name, f.data) for f in second.files]


@pytest.mark.parametrize(("spec", "fmt"), CASES)
def test_output_matches_the_registry(spec: ClientSpec, fmt: FormatSpec) -> None:
    result = _render(spec, fmt)
    if not fmt.folder:
        (only,) = result.files
        account = make_account("jean.dupont@example.ch")
        assert only.name == default_name(fmt, account)
    assert embed_policy(spec.name) == spec.embed


@pytest.mark.parametrize(("spec", "fmt"), CASES)
def test_every_file_parses_even_with_a_hostile_name(spec: ClientSpec, fmt: FormatSpec) -> None:
    for f in _render(spec, fmt, name=HOSTILE_NAME).files:
        _check_parses(f)
        assert "/" not in f.name and not f.name.startswith(".")


@pytest.mark.parametrize(("spec", "fmt"), CASES)
def test_hostile_name_survives_in_plists(spec: ClientSpec, fmt: FormatSpec) -> None:
    """Where the name is stored as data (a mail payload), it comes back exactly."""
    for f in _render(spec, fmt, name=HOSTILE_NAME).files:
        if not f.name.endswith(".mobileconfig"):
            continue
        for payload in plistlib.loads(f.data)["PayloadContent"]:
            if payload["PayloadType"] == "com.apple.mail.managed":
                assert payload["EmailAccountName"] == HOSTILE_NAME


def test_user_js_runs_in_node_with_a_hostile_name() -> None:
    node = require_binary("node")
    (user_js,) = [
        f.data
        for f in _render(
            CLIENTS["thunderbird"], CLIENTS["thunderbird"].formats[0], name=HOSTILE_NAME
        ).files
        if f.name == "user.js"
    ]
    prefs = prefs_from_node(node, user_js.decode())
    assert prefs == parse_user_js(user_js.decode())
    assert any(v == HOSTILE_NAME for _, v in prefs)


SUBSETS = [
    frozenset(c) for n in range(1, len(SERVICES) + 1) for c in itertools.combinations(SERVICES, n)
]


@pytest.mark.parametrize(("spec", "fmt"), CASES)
@pytest.mark.parametrize("services", SUBSETS, ids=lambda s: ",".join(sorted(s)))
def test_every_services_subset_renders_or_refuses_cleanly(
    spec: ClientSpec, fmt: FormatSpec, services: frozenset[str]
) -> None:
    try:
        result = _render(spec, fmt, services=services)
    except BadInput:
        return  # a usage error the CLI prints on one line (exit 2)
    assert result.files
    for f in result.files:
        _check_parses(f)


@pytest.mark.parametrize(("spec", "fmt"), CASES)
def test_embed_policy_is_enforced(spec: ClientSpec, fmt: FormatSpec) -> None:
    if spec.embed == "refuse":
        with pytest.raises(BadInput, match="writes no password"):
            _render(spec, fmt, password="s3cret")
        return
    files = _render(spec, fmt, password="s3cret").files
    holds = [f for f in files if b"s3cret" in f.data]
    assert all(f.secret for f in holds)  # a file with the password is written 0600
    # "embed" puts it in a file (else the all() above holds for no file at all); "ignore" in none.
    assert bool(holds) == (spec.embed == "embed")


def test_registry_names_a_module_with_render_for_every_client() -> None:
    import importlib

    for spec in CLIENTS.values():
        module = importlib.import_module(spec.module)
        assert callable(module.render)


def test_dav_renders_exactly_the_registry_formats() -> None:
    """dav's formats are declared once, in the registry: each one renders, any other is the
    registry's usage error naming them."""
    from mailsetup.render import dav

    assert set(dav._RENDERERS) == set(CLIENTS["dav"].format_names)
    account, provider = make_account("jean.dupont@example.ch"), load_provider()
    with pytest.raises(BadInput) as caught:
        dav.render(account, provider, RenderOptions(format="ical"))
    assert ", ".join(CLIENTS["dav"].format_names) in str(caught.value)


def test_the_contract_covers_every_client() -> None:
    assert {p.values[0].name for p in CASES} == set(CLIENTS)  # type: ignore[union-attr]
