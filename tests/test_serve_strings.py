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
