"""The page's sentences live in one table per language, each with every key."""

from __future__ import annotations

import re

from mailsetup.resources import data_dir
from mailsetup.serve.strings import EN, LANGUAGES


def test_every_language_has_every_key():
    for lang, table in LANGUAGES.items():
        assert set(table) == set(EN), lang
        assert table["lang"] == lang


def test_templates_use_only_known_keys_and_no_loose_english():
    folder = data_dir("templates") / "serve"
    for template in folder.glob("*.html.j2"):
        text = template.read_text()
        used = set(re.findall(r"\bt\.([a-z_0-9]+)", text))
        used |= set(re.findall(r't\["([a-z_0-9]+)"\]', text))
        assert used <= set(EN), (template.name, used - set(EN))
        if 't["device_" + device]' in text:  # the radio labels, one per device
            from mailsetup.serve.onboarding import DEVICES

            assert {f"device_{d}" for d in DEVICES} <= set(EN)
        # Text between tags is either a {{ ... }} expression or nothing.
        words = re.sub(r"\{[{%#].*?[}%#]\}|<[^>]+>", " ", text, flags=re.S)
        assert not re.search(r"[A-Za-z]{3,}", words), (template.name, words.split()[:10])


def test_docs_name_every_environment_variable_the_factory_reads():
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = "".join(
        (root / "mailsetup" / "serve" / name).read_text() for name in ("config.py", "app.py")
    )
    read = {
        "MAILSETUP_SERVE_" + k
        for k in re.findall(r'(?<![.\w])(?:get|path|number)\("([A-Z_]+)"', code)
    }
    read |= set(re.findall(r'"(MAILSETUP_SERVE_[A-Z_]+)"', code))
    documented = set(
        re.findall(r"MAILSETUP_SERVE_[A-Z_]+[A-Z]", (root / "docs" / "serve.md").read_text())
    )
    assert read and read == documented
