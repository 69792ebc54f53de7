"""``mailsetup profile`` as a person runs it: files, messages, exit codes, nothing lost."""

from __future__ import annotations

import os
import plistlib
import stat
import subprocess
from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run

EMAIL = "jane.doe@example.ch"
FILE = f"{EMAIL}.mobileconfig"


def test_writes_profile_in_current_folder_and_says_how_to_install(tmp_path: Path) -> None:
    proc = run(
        "profile", "--email", EMAIL, "--name", "Jane Doe", "--sync-user", "AB12345", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / FILE
    profile = plistlib.loads(written.read_bytes())
    assert len(profile["PayloadContent"]) == 3
    assert stat.S_IMODE(written.stat().st_mode) & 0o077 != 0o077  # not a secret: normal mode
    assert FILE in proc.stdout
    assert "System Settings" in proc.stdout and "Profile Downloaded" in proc.stdout
    assert len(proc.stdout.strip().splitlines()) <= 4
    assert list(tmp_path.iterdir()) == [written]  # no temporary file left behind


def test_dash_writes_only_the_profile_to_stdout(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "-o", "-", cwd=tmp_path)
    assert proc.returncode == 0
    assert plistlib.loads(proc.stdout.encode())["PayloadType"] == "Configuration"
    assert list(tmp_path.iterdir()) == []


def test_output_folder_gets_the_default_name(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "-o", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / FILE).is_file()


def test_existing_file_is_never_overwritten_without_force(tmp_path: Path) -> None:
    target = tmp_path / "p.mobileconfig"
    target.write_bytes(b"precious")
    proc = run("profile", "--email", EMAIL, "-o", str(target))
    assert_one_line_error(proc, 4, "already exists", "--force")
    assert target.read_bytes() == b"precious"
    proc = run("profile", "--email", EMAIL, "-o", str(target), "--force")
    assert proc.returncode == 0
    assert plistlib.loads(target.read_bytes())["PayloadType"] == "Configuration"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.mobileconfig"]


def test_missing_output_folder_is_an_output_error(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "-o", str(tmp_path / "nope" / "x.mobileconfig"))
    assert_one_line_error(proc, 4, "does not exist", "mkdir")


def test_unwritable_output_folder_is_an_output_error(tmp_path: Path) -> None:
    """A folder nobody may write in: mode 0555 for a normal user, immutable for root."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    folder.chmod(0o555)
    if os.geteuid() == 0:  # root ignores modes; the immutable attribute stops root too
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make a folder immutable here: {made.stderr.decode().strip()}")
    try:
        proc = run("profile", "--email", EMAIL, "-o", str(folder / FILE))
        assert_one_line_error(proc, 4, "permission denied")
        assert list(folder.iterdir()) == []
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


@pytest.mark.parametrize(
    "address",
    [
        "nope",
        "jane doe@example.ch",
        "@example.ch",
        "jane@",
        "jane@@example.ch",
        "a" * 300 + "@example.ch",
        "jane@exa mple.ch",
        "jane@-example.ch",
        "jöe@example.ch",
        "",
    ],
)
def test_invalid_addresses_are_bad_input_and_write_nothing(tmp_path: Path, address: str) -> None:
    proc = run("profile", "--email", address, cwd=tmp_path)
    assert_one_line_error(proc, 2)
    assert list(tmp_path.iterdir()) == []


def test_internationalised_domain_is_accepted_in_ascii_form(tmp_path: Path) -> None:
    proc = run("profile", "--email", "Jane@Bücher.CH", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / "Jane@xn--bcher-kva.ch.mobileconfig"
    mail = plistlib.loads(written.read_bytes())["PayloadContent"][0]
    assert mail["EmailAddress"] == "Jane@xn--bcher-kva.ch"


@pytest.mark.parametrize(
    "name",
    ['Jane "JD" Doe', "<script>&amp;</script>", "Zoë 🎉 Ünïcödé", "O'Brien & Sons", "Jane\nDoe\t"],
)
def test_odd_display_names_give_a_valid_profile(tmp_path: Path, name: str) -> None:
    proc = run("profile", "--email", EMAIL, "--name", name, "-o", "-")
    assert proc.returncode == 0, proc.stderr
    mail = plistlib.loads(proc.stdout.encode())["PayloadContent"][0]
    assert mail["EmailAccountName"] == " ".join(name.split())


def test_control_character_in_name_is_bad_input() -> None:
    assert_one_line_error(run("profile", "--email", EMAIL, "--name", "a\x07b"), 2, "control")


def test_unknown_client_lists_the_known_ones() -> None:
    assert_one_line_error(run("profile", "--email", EMAIL, "--client", "outlook98"), 2, "apple")


def test_format_for_a_client_without_formats_is_bad_input(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "--format", "json", cwd=tmp_path)
    assert_one_line_error(proc, 2, "--client apple has no --format")
    assert list(tmp_path.iterdir()) == []


def test_unknown_service_is_bad_input() -> None:
    assert_one_line_error(run("profile", "--email", EMAIL, "--services", "mail,fax"), 2, "fax")


def test_non_numeric_port_is_a_usage_error() -> None:
    proc = run("profile", "--email", EMAIL, "--smtp-port", "abc")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("this is not toml [", ("not valid TOML",)),
        ("[provider]\nid='x'\nname='X'\n", ("[imap]", "missing")),
        (
            "[provider]\nid='x'\nname='X'\n[imap]\nhost='h'\nport='993'\nsecurity='ssl'\n",
            ("imap.port", "int"),
        ),
        (
            "[provider]\nid='x'\nname='X'\n[imap]\nhost='h'\nport=993\nsecurity='tls-ish'\n",
            ("imap.security", "ssl"),
        ),
    ],
)
def test_bad_provider_file_names_file_and_key(
    tmp_path: Path, content: str, words: tuple[str, ...]
) -> None:
    provider = tmp_path / "prov.toml"
    provider.write_text(content)
    proc = run("profile", "--email", EMAIL, "--provider-file", str(provider), cwd=tmp_path)
    assert_one_line_error(proc, 3, "prov.toml", *words)
    assert list(tmp_path.iterdir()) == [provider]


def test_fifo_as_provider_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "provider.toml"
    os.mkfifo(fifo)
    proc = run("profile", "--email", EMAIL, "--provider-file", str(fifo), "-o", "-", timeout=20)
    assert_one_line_error(proc, 3, "not a regular file")


def test_missing_provider_file_is_a_provider_error(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "--provider-file", str(tmp_path / "none.toml"))
    assert_one_line_error(proc, 3, "no such file")


def test_embedded_password_from_environment_is_0600_and_never_printed(tmp_path: Path) -> None:
    secret = "Tr0ub4dor&3-unique"
    proc = run(
        "profile",
        "--email",
        EMAIL,
        "--embed-password",
        cwd=tmp_path,
        env={"MAILSETUP_PASSWORD": secret},
    )
    assert proc.returncode == 0, proc.stderr
    written = tmp_path / FILE
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert plistlib.loads(written.read_bytes())["PayloadContent"][0]["IncomingPassword"] == secret
    assert secret not in proc.stdout + proc.stderr
    assert "0600" in proc.stdout


def test_embed_password_without_any_source_is_a_secret_error(tmp_path: Path) -> None:
    proc = run("profile", "--email", EMAIL, "--embed-password", cwd=tmp_path)
    assert_one_line_error(proc, 5, "MAILSETUP_PASSWORD")
    assert list(tmp_path.iterdir()) == []


def test_password_is_not_accepted_as_an_argument() -> None:
    proc = run("profile", "--email", EMAIL, "--password", "x")
    assert proc.returncode == 2


def keyring_env(home: Path) -> dict[str, str]:
    """A real file-backed keyring (keyrings.alt) in a private folder."""
    return {
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(home / "data"),
        "HOME": str(home),
    }


def test_password_set_then_profile_embeds_it_from_the_keyring(tmp_path: Path) -> None:
    env = keyring_env(tmp_path)
    proc = run("password", "set", "--email", EMAIL, env=env, input="from-keyring-pw\n")
    assert proc.returncode == 0, proc.stderr
    assert "from-keyring-pw" not in proc.stdout + proc.stderr
    out = tmp_path / "out"
    out.mkdir()
    proc = run("profile", "--email", EMAIL, "--embed-password", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    mail = plistlib.loads((out / FILE).read_bytes())["PayloadContent"][0]
    assert mail["IncomingPassword"] == "from-keyring-pw"


def test_password_set_without_keyring_backend_is_a_secret_error() -> None:
    proc = run("password", "set", "--email", EMAIL, input="pw\n")
    assert_one_line_error(proc, 5, "keyring")


def test_help_documents_exit_codes() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for code in ("0 success", "2 bad input", "3 provider", "4 output", "5 secret"):
        assert code in " ".join(proc.stdout.split())


def test_password_set_checks_the_keyring_before_reading_a_password() -> None:
    """No backend: exit 5 at once, and the password on stdin is never read (nothing to type)."""
    proc = run("password", "set", "--email", EMAIL, input="")
    assert_one_line_error(proc, 5, "keyring")


def test_password_set_refuses_an_empty_password(tmp_path: Path) -> None:
    proc = run("password", "set", "--email", EMAIL, env=keyring_env(tmp_path), input="\n")
    assert_one_line_error(proc, 2, "empty")


def test_version() -> None:
    from importlib.metadata import version

    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"mailsetup {version('mailsetup')}"


def test_profile_help_has_examples_and_exit_codes() -> None:
    text = " ".join(run("profile", "--help").stdout.split())
    assert "mailsetup profile -e jane.doe@example.ch -c thunderbird -o" in text
    assert "4 output file" in text


def test_outlook_suggests_autodiscover() -> None:
    proc = run("profile", "-e", EMAIL, "--client", "outlook")
    assert proc.returncode == 2, proc.stderr
    assert "--client autodiscover" in proc.stderr
    assert "Traceback" not in proc.stderr
