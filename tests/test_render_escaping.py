"""Odd display names: every output still parses and gives the name back unchanged.

Quotes, backslashes, ``</script>``, newlines, U+2028/2029, emoji, ``<`` and ``&`` go through
the real user path (``make_account``) and, for user.js, also straight into the model, so the
JS escaping is tested on text the account model would have cleaned.
"""

from __future__ import annotations

import html
import json
import re
import subprocess

from defusedxml import ElementTree
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mailsetup.account import Account, make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from mailsetup.render.templating import js_string
from mailsetup.render.thunderbird import account_key
from tests.conftest import require_binary
from tests.prefs_js import parse_user_js, prefs_from_node

PROVIDER = load_provider()
NS = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
NASTY = [
    '"',
    "'",
    "\\",
    "</script>",
    "<!--",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\u2029",
    "😀",
    "👩‍👩‍👧",
    "<",
    ">",
    "&",
    "&amp;",
    "]]>",
    "${x}",
    "`",
    "%EMAILADDRESS%",
    "\\u0041",
    "*",
    "_",
    "[a](b)",
    "|",
    "#",
    "- ",
    "1. ",
    "\u00e9",
    "\u0301",
    "\x00",
    "\x1b",
    "\ufeff",
]
names = st.lists(st.sampled_from(NASTY) | st.text(max_size=4), max_size=8).map("".join)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def user_account(name: str) -> Account:
    try:
        return make_account("jean.dupont@example.ch", name, "AB12345")
    except BadInput:
        assume(False)
        raise


def outputs(account: Account) -> dict[str, bytes]:
    out = {}
    for client in ("thunderbird", "emclient", "autodiscover"):
        for f in render(client, account, PROVIDER, RenderOptions()).files:
            out[f"{client}/{f.name}"] = f.data
    return out


def md_plain(text: str) -> str:
    """Undo the Markdown escaping a renderer applies (backslash escapes, then entities)."""
    return html.unescape(re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text))


@SETTINGS
@given(names)
def test_every_output_parses_and_keeps_the_name(raw):
    account = user_account(raw)
    name = account.display_name
    out = outputs(account)
    for path, data in out.items():
        if path.endswith(".xml"):
            ElementTree.fromstring(data)  # well-formed XML 1.0
    pox = ElementTree.fromstring(out["autodiscover/autodiscover.xml"])
    assert pox.find(f"{NS}Response/{NS}User/{NS}DisplayName").text == name

    prefs = dict(parse_user_js(out["thunderbird/user.js"].decode()))
    key = account_key(account, PROVIDER)
    assert prefs[f"mail.identity.{key}.fullName"] == name
    assert b"</script" not in out["thunderbird/user.js"].lower()

    page = out["emclient/setup-sheet.html"].decode()
    # No markup from the name: every "<" in the page starts one of the template's own tags.
    tags = set(re.findall(r"</?([a-zA-Z0-9!]+)", page))
    assert tags <= {
        "!DOCTYPE",
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "p",
        "table",
        "tr",
        "th",
        "td",
    }
    (intro_html,) = [
        line for line in page.splitlines() if line.startswith(f"<p>{PROVIDER.name}, for ")
    ]
    assert (
        html.unescape(intro_html)
        == f"<p>{PROVIDER.name}, for {name}. Fill in the fields in this order.</p>"
    )
    sheet = out["emclient/setup-sheet.md"].decode()
    intro = next(
        line for line in sheet.splitlines() if line.endswith("Fill in the fields in this order.")
    )
    assert md_plain(intro) == f"{PROVIDER.name}, for {name}. Fill in the fields in this order."
    assert "<" not in intro and "\n" not in name


@SETTINGS
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | names)
def test_user_js_round_trips_any_text(text):
    """Straight into the model, past the account's cleaning: control characters, newlines."""
    account = Account("jean.dupont@example.ch", "jean.dupont@example.ch", text, "AB12345")
    (user_js,) = [
        f.data
        for f in render("thunderbird", account, PROVIDER, RenderOptions()).files
        if f.name == "user.js"
    ]
    prefs = dict(parse_user_js(user_js.decode()))
    assert prefs[f"mail.identity.{account_key(account, PROVIDER)}.fullName"] == text


SAMPLES = [
    'Jean "JD" Dupont',
    "back\\slash\\",
    "</script><script>alert(1)</script>",
    "line\nbreak\r\n",
    "sep\u2028par\u2029",
    "emoji 😀 👩‍👩‍👧",
    "<tag> & amp;",
    "'single'",
    "\\u0041 is not A",
    "\x00\x01\x1f\x7f",
    "tab\there",
    "\ufeff bom",
]


def test_node_reads_the_same_strings():
    """ECMAScript's own parser (node) gives back each literal unchanged."""
    node = require_binary("node")
    source = "[" + ",".join(js_string(s) for s in SAMPLES) + "]"
    # A <script> body must not be closed early by the data either.
    assert "</script" not in source.lower()
    result = subprocess.run(
        [
            node,
            "-e",
            "process.stdout.write(JSON.stringify(eval(require('fs').readFileSync(0, 'utf8'))))",
        ],
        input=source.encode(),
        capture_output=True,
        timeout=30,
        check=True,
    )
    assert json.loads(result.stdout) == SAMPLES


def test_node_evaluates_user_js():
    """The whole user.js, evaluated as JavaScript with user_pref defined, has the same prefs."""
    node = require_binary("node")
    account = Account("a@example.ch", "a@example.ch", "".join(SAMPLES), "AB12345")
    (user_js,) = [
        f.data
        for f in render("thunderbird", account, PROVIDER, RenderOptions()).files
        if f.name == "user.js"
    ]
    assert prefs_from_node(node, user_js.decode()) == parse_user_js(user_js.decode())
