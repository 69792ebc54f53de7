"""The provider file is data, never code (issue 9 §1, §3).

Hostile strings are refused at load time with exit 3 naming the key; the renderers still
escape for their own format, checked here with the real consumers (vdirsyncer, node, plistlib,
an XML parser) on a provider built past the loader.
"""

from __future__ import annotations

import dataclasses
import io
import os
import plistlib
import subprocess
import sys
from pathlib import Path

import pytest
from defusedxml import ElementTree
from hypothesis import given, settings
from hypothesis import strategies as st

from mailsetup.account import make_account
from mailsetup.errors import ProviderError
from mailsetup.provider import load_provider, parse_provider
from mailsetup.render import RenderOptions, render
from tests.cli import invoke
from tests.conftest import require_binary
from tests.prefs_js import parse_user_js, prefs_from_node
from tests.test_render_dav import ROOT

BASE = (ROOT / "profiles" / "infomaniak.toml").read_text()
VENV_BIN = Path(sys.executable).parent


def _with(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


HOSTILE = [
    "\n",
    "\r",
    "\x00",
    "\x1b[31m",
    "\x85",  # NEL
    "\u2028",
    "\u2029",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",
]


@pytest.mark.parametrize("char", HOSTILE)
@pytest.mark.parametrize(
    ("old", "key"),
    [
        ('name = "Infomaniak"', "provider.name"),
        ('password_hint = "use', "provider.password_hint"),
        ('host = "mail.infomaniak.com"', "imap.host"),
        ('url = "https://sync.infomaniak.com"', "caldav.url"),
        ('username = "%EMAILADDRESS%"', "imap.username"),
        ('sync_user_example = "AB12345"', "texts.sync_user_example"),
    ],
)
def test_control_line_break_and_bidi_are_refused_naming_the_key(char, old, key):
    new = old[:-1] + char + old[-1] if old.endswith('"') else old + char
    text = _with(old, new.replace("\n", "\\n").replace("\r", "\\r"))
    text = text.replace("\x00", "\\u0000").replace("\x1b", "\\u001b").replace("\x85", "\\u0085")
    with pytest.raises(ProviderError, match=key.replace(".", r"\.")) as info:
        parse_provider(text, "p.toml")
    assert info.value.exit_code == 3


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('host = "mail.infomaniak.com"', 'host = "mail infomaniak.com"', "imap.host"),
        ('host = "mail.infomaniak.com"', 'host = "mail.infomaniak.com/x"', "imap.host"),
        ('host = "mail.infomaniak.com"', 'host = "a..b"', "imap.host"),
        ('host = "mail.infomaniak.com"', f'host = "{"a" * 64}.ch"', "imap.host"),
        ('url = "https://sync.infomaniak.com"', 'url = "https://a b.ch"', "caldav.url"),
        ('identifier_prefix = "com.infomaniak.mailsetup"', 'identifier_prefix = "x"', "prefix"),
        ('identifier_prefix = "com.infomaniak.mailsetup"', 'identifier_prefix = "a..b"', "prefix"),
        ('username = "%EMAILADDRESS%"', 'username = "%EMAILUSER%"', "imap.username"),
        ("ics_max_bytes = 20_971_520", "ics_max_bytes = 0", "ics_max_bytes"),
        ("ics_max_bytes = 20_971_520", "ics_max_bytes = -5", "ics_max_bytes"),
        ('spf_include = "spf.infomaniak.ch"', 'spf_include = "spf infomaniak"', "spf_include"),
        ('home = "/calendars/%SYNCUSER%/"', 'home = "/c/%SYNCUSER%/%OTHER%/"', "caldav.home"),
        # Only whole documented placeholders may hold a '%': a half-typed one was written as the
        # literal login '%EMAILADDRESS' into every file.
        ('username = "%EMAILADDRESS%"', 'username = "%EMAILADDRESS"', "imap.username"),
        ('username = "%EMAILADDRESS%"', 'username = "EMAILADDRESS%"', "imap.username"),
        ('username = "%EMAILADDRESS%"', 'username = "%EMAIL ADDRESS%"', "imap.username"),
        ('home = "/calendars/%SYNCUSER%/"', 'home = "/calendars/%SYNCUSER%/%SYNCUSR"', "home"),
    ],
)
def test_bad_values_are_refused_naming_the_key(old, new, key):
    with pytest.raises(ProviderError, match=key) as info:
        parse_provider(_with(old, new), "p.toml")
    assert info.value.exit_code == 3


def test_idn_host_is_accepted():
    text = _with('host = "mail.infomaniak.com"', 'host = "mail.bücher.example"')
    assert parse_provider(text, "p.toml").imap.host == "mail.bücher.example"


PLAIN_DAV = ('url = "https://sync.infomaniak.com"', 'url = "http://sync.infomaniak.com"')
PLAIN_IMAP = ('security = "ssl"          # ssl', 'security = "none"          # ssl')


@pytest.mark.parametrize(("old", "new", "key"), [(*PLAIN_DAV, "caldav.url"), (*PLAIN_IMAP, "imap")])
def test_clear_text_login_is_refused_unless_the_file_says_so(tmp_path, old, new, key):
    with pytest.raises(ProviderError, match=key):
        parse_provider(_with(old, new), "p.toml")
    table = "[caldav]" if key == "caldav.url" else "[imap]"
    meant = _with(old, new).replace(table, f"{table}\nallow_plaintext = true", 1)
    path = tmp_path / "plain.toml"
    path.write_text(meant)
    for _ in range(2):  # warned on every use, on stderr
        result = invoke(
            ["profile", "-e", "a@example.ch", "--provider-file", str(path), "-o", "-"],
        )
        assert result.exit_code == 0, result.output
        assert "clear text" in result.stderr
        assert "clear text" not in result.stdout


def test_cli_exit_3_before_anything_is_written(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(_with('name = "Infomaniak"', 'name = "X\\u0007Y"'))
    out = tmp_path / "out.mobileconfig"
    result = invoke(["profile", "-e", "a@example.ch", "--provider-file", str(path), "-o", str(out)])
    assert result.exit_code == 3
    assert "provider.name" in result.stderr and "Traceback" not in result.output
    assert not out.exists()


# --- defence in depth: a hostile provider built past the loader -------------------------

EVIL_NAME = (
    'X\n[pair evil]\na = "evil_a"\nb = "evil_b"\ncollections = null\n'
    '[storage evil_a]\ntype = "filesystem"\npath = "{d}/a/"\nfileext = ".ics"\n'
    '[storage evil_b]\ntype = "caldav"\nurl = "https://127.0.0.1:9/"\nusername = "u"\n'
    'password.fetch = ["command", "sh", "-c", "touch {d}/PWNED"]\n'
    'user_pref("evil.pref", true);\n#'
)


def _evil(tmp_path: Path):
    return dataclasses.replace(load_provider(), name=EVIL_NAME.format(d=tmp_path))


ACCOUNT = make_account("jane@example.ch", "Jane", "AB12345")


def test_vdirsyncer_discover_stays_inert_with_a_newline_in_the_name(tmp_path):
    """Reproduced with vdirsyncer 0.21: before the fix `discover evil` ran the sh command."""
    out = render("dav", ACCOUNT, _evil(tmp_path), RenderOptions(format="vdirsyncer"))
    conf = tmp_path / "conf"
    conf.write_bytes(out.files[0].data)
    env = {**os.environ, "HOME": str(tmp_path)}
    result = subprocess.run(
        [str(VENV_BIN / "vdirsyncer"), "-c", str(conf), "discover", "evil"],
        env=env,
        input="y\n" * 5,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "does not exist" in result.stderr
    assert not (tmp_path / "PWNED").exists()


def test_user_js_comment_cannot_start_a_pref(tmp_path):
    node = require_binary("node")
    files = render("thunderbird", ACCOUNT, _evil(tmp_path), RenderOptions()).files
    (user_js,) = [f.data.decode() for f in files if f.name == "user.js"]
    prefs = prefs_from_node(node, user_js)
    assert prefs == parse_user_js(user_js)
    assert "evil.pref" not in dict(prefs)


def test_xml_and_plist_stay_well_formed_with_a_control_character(tmp_path):
    provider = dataclasses.replace(load_provider(), name="Acme\x01\x0b Mail")
    for client in ("thunderbird", "emclient", "autodiscover"):
        for f in render(client, ACCOUNT, provider, RenderOptions()).files:
            if f.name.endswith(".xml"):
                ElementTree.fromstring(f.data)  # well-formed XML 1.0
    with pytest.raises(ProviderError):
        render("apple", ACCOUNT, provider, RenderOptions())
    good = render("apple", ACCOUNT, load_provider(), RenderOptions()).files[0].data
    assert plistlib.loads(good)["PayloadOrganization"] == "Infomaniak"


# Property: whatever a provider name holds (past the loader), each file keeps its structure.
_HOSTILE_NAMES = st.lists(
    st.sampled_from(['"', "\\", "\n", "\r", "\x85", "\u2028", "]", "[pair x]", "#", "//", "<"])
    | st.text(max_size=3),
    max_size=8,
).map("".join)


@settings(max_examples=60, deadline=None)
@given(_HOSTILE_NAMES)
def test_any_provider_name_keeps_every_file_structure(name):
    from vdirsyncer.cli.config import Config

    provider = dataclasses.replace(load_provider(), name=name)
    conf = render("dav", ACCOUNT, provider, RenderOptions(format="vdirsyncer")).files[0]
    config = Config.from_fileobject(io.StringIO(conf.data.decode()))
    assert set(config.pairs) == {"infomaniak_calendars", "infomaniak_contacts"}
    files = {
        f.name: f.data for f in render("thunderbird", ACCOUNT, provider, RenderOptions()).files
    }
    prefs = dict(parse_user_js(files["user.js"].decode()))
    assert all(k.startswith(("mail.", "mailnews.", "ldap_2.", "calendar.")) for k in prefs)
    ElementTree.fromstring(files["config-v1.1.xml"])
    ElementTree.fromstring(render("autodiscover", ACCOUNT, provider, RenderOptions()).files[0].data)


@pytest.mark.parametrize("char", ["\\uFFFE", "\\uFFFF"])
def test_xml_illegal_noncharacters_in_a_provider_string_are_refused(char):
    """U+FFFE/U+FFFF are not XML 1.0 characters: plistlib wrote them into a profile that no
    plist reader (plistlib included) could parse."""
    text = BASE.replace('name = "Infomaniak"', f'name = "Info{char}maniak"', 1)
    with pytest.raises(ProviderError, match=r"provider\.name") as info:
        parse_provider(text, "p.toml")
    assert info.value.exit_code == 3


def test_apple_renderer_never_writes_a_plist_that_does_not_parse():
    """Past the loader (a provider built in code), the Apple renderer refuses instead of
    writing a profile that is not well-formed."""
    provider = dataclasses.replace(load_provider(), name="Info\ufffemaniak")
    try:
        data = render("apple", ACCOUNT, provider, RenderOptions()).files[0].data
    except ProviderError:
        return
    plistlib.loads(data)


@pytest.mark.parametrize("selector", ["s" * 64, "a..b", "a b", "x/y"])
def test_a_dkim_selector_that_is_no_dns_label_is_refused_at_load(selector):
    """dkim_selectors were the one list of names the loader did not check; check then built a
    query name from them."""
    text = BASE.replace("dkim_selectors = []", f'dkim_selectors = ["{selector}"]', 1)
    with pytest.raises(ProviderError, match=r"dns\.dkim_selectors") as info:
        parse_provider(text, "p.toml")
    assert info.value.exit_code == 3


URL = 'url = "https://sync.infomaniak.com"'


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (URL, 'url = "https://sync.infomaniak.com/a\\"b"', "url"),
        (URL, 'url = "https://sync.infomaniak.com/<x>"', "url"),
        (URL, 'url = "https://sync.infomaniak.com/a\\\\b"', "url"),
        (URL, 'url = "https://sync.infomaniak.com/{a}|^`"', "url"),
        ('home = "/calendars/%SYNCUSER%/"', 'home = "/calendars/%SYNCUSER%/\\"<x>"', "home"),
    ],
)
def test_dav_url_characters_rfc_3986_excludes_are_refused(old, new, key):
    """A quote, angle bracket, backslash, brace, bar, caret or backtick cannot appear in a URI
    (RFC 3986 section 2; appendix C names them as delimiters around URIs): the loader let them
    into the DAVx5 link, the QR code and the Apple profile's account URLs."""
    text = BASE.replace(old, new, 1)
    with pytest.raises(ProviderError, match=rf"caldav\.{key}") as info:
        parse_provider(text, "p.toml")
    assert info.value.exit_code == 3


def test_a_huge_provider_file_is_refused_without_reading_it_all(tmp_path):
    """A provider file may come from anyone: a 300 MB one was read whole (640 MB of memory)
    before TOML said no; a few GB would exhaust the machine. It is read with a bound."""
    import subprocess
    import sys

    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:
        f.truncate(200 * 1024 * 1024)  # sparse: no disk used
    proc = subprocess.run(
        [sys.executable, "-m", "mailsetup", "profile", "-e", "a@example.ch", "-o", "-",
         "--provider-file", str(huge)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "too large" in proc.stderr
