"""``mailsetup profile --client dav``: each descriptor format, checked by its own consumer."""

from __future__ import annotations

import io
import json
import os
import plistlib
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from mailsetup.account import make_account
from mailsetup.errors import BadInput
from mailsetup.provider import load_provider
from mailsetup.render import RenderOptions, render
from tests.apple_schema import validate_profile
from tests.cli import invoke, run

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "docs" / "dav-descriptor.schema.json").read_text())
VENV_BIN = Path(sys.executable).parent
DAV = ("profile", "-e", "a@example.ch", "--sync-user", "AB12345", "-c", "dav")


def _render(fmt: str | None, sync_user: str | None = "AB12345", services: str = "caldav,carddav"):
    account = make_account("anna@example.ch", "Anna", sync_user)
    options = RenderOptions(services=frozenset(services.split(",")), format=fmt)
    return render("dav", account, load_provider(), options)


def _validate(doc: dict) -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(doc)


# --- json ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sync_user", ["AB12345", None])
@pytest.mark.parametrize("services", ["caldav,carddav", "caldav", "carddav", "mail,carddav"])
def test_json_descriptor_matches_its_published_schema(sync_user, services):
    doc = json.loads(_render("json", sync_user, services).files[0].data)
    _validate(doc)
    assert set(doc["services"]) == set(services.split(",")) - {"mail"}
    assert doc["username"] == sync_user


def test_json_descriptor_values():
    doc = json.loads(_render("json").files[0].data)
    cal = doc["services"]["caldav"]
    assert cal["server_url"] == "https://sync.infomaniak.com/"
    assert cal["well_known_url"] == "https://sync.infomaniak.com/.well-known/caldav"
    assert cal["home_set_url"] == "https://sync.infomaniak.com/calendars/AB12345/"
    assert doc["services"]["carddav"]["well_known_url"].endswith("/.well-known/carddav")
    assert doc["password"] == {"keyring_service": "mailsetup", "keyring_user": "sync:AB12345"}


def test_schema_rejects_a_descriptor_with_a_password():
    import jsonschema

    doc = json.loads(_render("json").files[0].data)
    doc["password"]["value"] = "secret"
    with pytest.raises(jsonschema.ValidationError):
        _validate(doc)


def test_json_is_stable_bytes():
    assert _render("json").files[0].data == _render("json").files[0].data


@pytest.mark.parametrize("fmt", [None, "xml", ""])
def test_missing_or_unknown_format_lists_the_formats(fmt):
    with pytest.raises(BadInput) as err:
        _render(fmt)
    assert "json, vdirsyncer, davx5, mobileconfig" in str(err.value)


def test_mail_only_services_is_refused():
    with pytest.raises(BadInput, match="caldav or carddav"):
        _render("json", services="mail")


def test_cli_unknown_format_exits_2(tmp_path):
    result = run(
        "profile", "-e", "a@example.ch", "-c", "dav", "--format", "ini", "-o", str(tmp_path)
    )
    assert result.returncode == 2
    assert "choose one of: json, vdirsyncer, davx5, mobileconfig" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["json", "vdirsyncer", "davx5", "mobileconfig"])
def test_no_format_ever_writes_a_password(tmp_path, monkeypatch, fmt):
    monkeypatch.setenv("MAILSETUP_PASSWORD", "mail-Secret-1")
    monkeypatch.setenv("MAILSETUP_SYNC_PASSWORD", "sync-Secret-2")
    out = tmp_path / "out"
    result = invoke(
        [*DAV, "--format", fmt, "--embed-password", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        assert b"Secret" not in data, path
    assert "Secret" not in result.output


# --- vdirsyncer ---------------------------------------------------------------------------


def _vdir_config(text: str):
    from vdirsyncer.cli.config import Config

    return Config.from_fileobject(io.StringIO(text))


def test_vdirsyncer_config_loads_with_vdirsyncer_parser():
    text = _render("vdirsyncer").files[0].data.decode()
    config = _vdir_config(text)
    assert set(config.pairs) == {"infomaniak_calendars", "infomaniak_contacts"}
    remote = config.storages["infomaniak_calendars_remote"]
    assert remote["type"] == "caldav"
    assert remote["url"] == "https://sync.infomaniak.com/"
    assert remote["username"] == "AB12345"
    assert remote["password.fetch"] == [
        "command",
        sys.executable,
        "-m",
        "keyring",
        "get",
        "mailsetup",
        "sync:AB12345",
    ]
    assert "password" not in remote
    assert config.storages["infomaniak_contacts_remote"]["type"] == "carddav"
    assert config.storages["infomaniak_contacts_local"]["fileext"] == ".vcf"
    pair = config.get_pair("infomaniak_calendars")
    assert pair.name_a == "infomaniak_calendars_local"


def test_vdirsyncer_only_the_chosen_services():
    config = _vdir_config(_render("vdirsyncer", services="carddav").files[0].data.decode())
    assert set(config.pairs) == {"infomaniak_contacts"}


def test_vdirsyncer_needs_the_sync_user():
    with pytest.raises(BadInput, match="--sync-user"):
        _render("vdirsyncer", sync_user=None)


def keyring_env(tmp_path: Path) -> dict[str, str]:
    """A real file-backed keyring (keyrings.alt) in a private folder, shared by
    `mailsetup password set` and the `keyring` command vdirsyncer runs."""
    return {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
    }


def test_vdirsyncer_fetches_the_password_that_mailsetup_stored(tmp_path, monkeypatch):
    """The fetch command in the config finds what `password set --sync-user` put in the keyring."""
    env = keyring_env(tmp_path)
    stored = subprocess.run(
        [str(VENV_BIN / "mailsetup"), "password", "set", *DAV[1:5]],
        input="app-pass 42\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0, stored.stderr
    # The confirmation names the backend that holds it (here keyrings.alt's file), not a
    # "system keyring" that was never used.
    assert "keyring backend PlaintextKeyring" in stored.stdout, stored.stdout
    assert "app-pass" not in stored.stdout + stored.stderr
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from vdirsyncer.cli.fetchparams import expand_fetch_params

    config = _vdir_config(_render("vdirsyncer").files[0].data.decode())
    expanded = expand_fetch_params(config.storages["infomaniak_contacts_remote"])
    assert expanded["password"] == "app-pass 42"


# --- davx5 --------------------------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Decode the 1-bit greyscale PNG segno writes (filters None/Sub/Up), no imaging library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (1, 0)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    prev = bytearray(stride)
    out = bytearray()
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        filt, row = line[0], bytearray(line[1:])
        if filt == 1:
            for i in range(1, stride):
                row[i] = (row[i] + row[i - 1]) & 0xFF
        elif filt == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, prev, strict=True))
        else:
            assert filt == 0, f"PNG filter {filt} not handled by this small decoder"
        prev = row
        for x in range(width):
            out.append(255 if row[x // 8] >> (7 - x % 8) & 1 else 0)
    return width, height, bytes(out)


def _decode_qr(width: int, height: int, pixels: bytes) -> list[str]:
    import zxingcpp

    image = memoryview(pixels).cast("B", (height, width))
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_davx5_link_and_qr_codes_decode_back():
    result = _render("davx5")
    files = {f.name: f.data for f in result.files}
    link = "caldavs://AB12345@sync.infomaniak.com/calendars/AB12345/"
    assert files["davx5-link.txt"].decode().strip() == link
    assert _decode_qr(*_png_pixels(files["davx5-qr.png"])) == [link]
    assert b"<svg" in files["davx5-qr.svg"]
    assert any(link in line for line in result.instructions)


def test_davx5_terminal_qr_decodes_back():
    """The half-block text printed on the terminal is the same code, not decoration."""
    lines = [line for line in _render("davx5").instructions if set(line) <= set("█▀▄ ")]
    rows = []
    for line in lines:
        top = bytes(0 if c in "█▀" else 255 for c in line)
        bottom = bytes(0 if c in "█▄" else 255 for c in line)
        rows += [top, bottom]
    # segno draws light modules as blocks for dark terminals: invert back to dark-on-light.
    rows = [bytes(255 - b for b in r) for r in rows]
    scale = 4
    big = b"".join(bytes(b for b in r for _ in range(scale)) * scale for r in rows)
    assert _decode_qr(len(rows[0]) * scale, len(rows) * scale, big) == [
        "caldavs://AB12345@sync.infomaniak.com/calendars/AB12345/"
    ]


def test_davx5_without_user_or_home_uses_the_root():
    assert _render("davx5", sync_user=None).instructions[0] == (
        "DAVx5 link: caldavs://sync.infomaniak.com/"
    )
    link = _render("davx5", services="carddav").instructions[0]
    assert link == "DAVx5 link: carddavs://AB12345@sync.infomaniak.com/addressbooks/AB12345/"


def test_davx5_cli_writes_three_files_in_a_folder(tmp_path):
    out = tmp_path / "dav"
    result = invoke(
        [*DAV, "--format", "davx5", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "davx5-link.txt",
        "davx5-qr.png",
        "davx5-qr.svg",
    ]


# --- mobileconfig -------------------------------------------------------------------------


def test_mobileconfig_is_dav_only_and_conforms_to_apple_schemas():
    result = _render("mobileconfig")
    (only,) = result.files
    assert only.name == "anna@example.ch-dav.mobileconfig"
    profile = plistlib.loads(only.data)
    kinds = [p["PayloadType"] for p in profile["PayloadContent"]]
    assert kinds == ["com.apple.caldav.account", "com.apple.carddav.account"]
    assert validate_profile(profile) == []
    assert profile["PayloadContent"][0]["CalDAVUsername"] == "AB12345"


def test_apple_check_is_not_toothless():
    profile = plistlib.loads(_render("mobileconfig").files[0].data)
    profile["PayloadContent"][0]["CalDAVPort"] = "443"
    profile["PayloadContent"][1]["CardDAVColour"] = "red"
    assert len(validate_profile(profile)) == 2


# --- provider data: the optional home-set pattern -------------------------------------------


@pytest.mark.parametrize("home", ["calendars/%SYNCUSER%/", "/calendars/fixed/"])
def test_provider_home_pattern_is_checked(tmp_path, home):
    from mailsetup.errors import ProviderError

    text = (ROOT / "profiles" / "infomaniak.toml").read_text()
    path = tmp_path / "p.toml"
    path.write_text(text.replace('home = "/calendars/%SYNCUSER%/"', f'home = "{home}"'))
    with pytest.raises(ProviderError, match=r"caldav\.home"):
        load_provider(path=path)


def test_provider_without_home_still_loads_and_davx5_uses_the_root(tmp_path):
    text = (ROOT / "profiles" / "infomaniak.toml").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("home = ")]
    path = tmp_path / "p.toml"
    path.write_text("\n".join(lines))
    provider = load_provider(path=path)
    assert provider.caldav.home is None
    account = make_account("a@example.ch", None, "AB12345")
    result = render("dav", account, provider, RenderOptions(format="davx5"))
    assert result.instructions[0] == "DAVx5 link: caldavs://AB12345@sync.infomaniak.com/"
    doc = json.loads(render("dav", account, provider, RenderOptions(format="json")).files[0].data)
    assert doc["services"]["caldav"]["home_set_url"] is None
    _validate(doc)
