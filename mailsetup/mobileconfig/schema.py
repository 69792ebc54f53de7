"""Apple's payload schemas, as the linter reads them.

The source of truth is Apple's YAML (``schemas/*.yaml``, shipped with its licence). Parsing YAML
at every ``inspect`` would cost a YAML library's import (~50 ms, more than the rest of the
command), so ``schemas/index.json`` carries the few fields the linter reads, derived from the YAML
by :func:`build_index`; ``python -m mailsetup.mobileconfig.schema`` rewrites it and a test fails
when it is out of date.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
INDEX = SCHEMA_DIR / "index.json"
TOP_LEVEL = "TopLevel"
COMMON = "CommonPayloadKeys"

KeySpec = dict[str, Any]  # type, presence, rangelist (optional), apple (Apple's wording)


def build_index(folder: Path = SCHEMA_DIR) -> dict[str, dict[str, KeySpec]]:
    """Payload type -> key -> spec, from every YAML file in ``folder`` (needs PyYAML)."""
    import yaml

    index: dict[str, dict[str, KeySpec]] = {}
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        keys: dict[str, KeySpec] = {}
        for spec in doc["payloadkeys"]:
            entry: KeySpec = {"type": spec["type"], "presence": spec.get("presence", "optional")}
            if "rangelist" in spec:
                entry["rangelist"] = spec["rangelist"]
            if spec.get("content"):
                entry["apple"] = " ".join(str(spec["content"]).split())
            keys[spec["key"]] = entry
        index[doc["payload"]["payloadtype"]] = keys
    return index


def render_index(index: dict[str, dict[str, KeySpec]]) -> str:
    return json.dumps(index, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@functools.cache
def load_index() -> dict[str, dict[str, KeySpec]]:
    data: dict[str, dict[str, KeySpec]] = json.loads(INDEX.read_text(encoding="utf-8"))
    return data


def keys_for(payload_type: str) -> dict[str, KeySpec] | None:
    """The keys a payload of ``payload_type`` may have (common keys included), or ``None``
    when mailsetup ships no schema for that type."""
    index = load_index()
    own = index.get(payload_type)
    if own is None or payload_type in (TOP_LEVEL, COMMON):
        return None
    return {**index[COMMON], **own}


def top_level_keys() -> dict[str, KeySpec]:
    return load_index()[TOP_LEVEL]


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    INDEX.write_text(render_index(build_index()), encoding="utf-8")
    print(f"wrote {INDEX}")
