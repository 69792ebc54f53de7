"""DAV URLs in a provider file: a bad port or host is provider data (exit 3), not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("url", ["https://sync.example.net:99999", "https://[::1"])
def test_a_dav_url_with_a_bad_port_or_host_is_provider_data(tmp_path: Path, url: str) -> None:
    text = (ROOT / "profiles" / "infomaniak.toml").read_text(encoding="utf-8")
    pf = tmp_path / "prov.toml"
    pf.write_text(text.replace('url = "https://sync.infomaniak.com"', f"url = {url!r}", 1))
    proc = run("profile", "--email", "a@example.ch", "--provider-file", str(pf), "-o", "-")
    assert_one_line_error(proc, 3, "caldav.url")
