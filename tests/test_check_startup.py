"""``check`` keeps start-up cheap: nothing heavy for --help, no rich unless on a terminal."""

from __future__ import annotations

from pathlib import Path

from tests.test_startup import loaded_heavy_modules


def test_check_help_imports_nothing_heavy(tmp_path: Path) -> None:
    assert loaded_heavy_modules(["check", "--help"], tmp_path) == []


def test_check_with_bad_input_imports_nothing_heavy(tmp_path: Path) -> None:
    """Options are validated before a probe module (dnspython, defusedxml) is imported."""
    args = ["check", "--email", "jane@example.ch", "--timeout", "0"]
    assert loaded_heavy_modules(args, tmp_path) == []


def test_piped_check_does_not_import_rich(tmp_path: Path) -> None:
    """A whole check whose output goes to a pipe prints plain text without loading rich."""
    provider = tmp_path / "p.toml"
    provider.write_text(
        '[provider]\nid = "t"\nname = "T"\n'
        '[imap]\nhost = "127.0.0.1"\nport = 9\nsecurity = "ssl"\n'
        '[smtp]\nhost = "127.0.0.1"\nport = 9\nsecurity = "starttls"\n'
        '[caldav]\nurl = "https://127.0.0.1:9"\n[carddav]\nurl = "https://127.0.0.1:9"\n'
    )
    args = ["check", "--email", "jane@example.ch", "--timeout", "0.5"]
    args += ["--resolver", "127.0.0.1:9", "--provider-file", str(provider)]
    loaded = loaded_heavy_modules(args, tmp_path)
    assert "dns.resolver" in loaded  # the probes did run
    assert "rich" not in loaded
