"""A small conformance check of an Apple profile against Apple's own payload YAML.

Every key must be one Apple lists for the payload type (or a common payload key), have the listed
type, and every required key must be present. The schemas are the shared copy beside the
repository (``../shared/apple-schemas``) or the folder named by ``MAILSETUP_APPLE_SCHEMAS``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

_TYPES: dict[str, type | tuple[type, ...]] = {
    "<string>": str,
    "<integer>": int,
    "<boolean>": bool,
    "<array>": list,
    "<dictionary>": dict,
    "<data>": bytes,
    "<real>": (int, float),
}


def schema_dir() -> Path:
    env = os.environ.get("MAILSETUP_APPLE_SCHEMAS")
    here = Path(__file__).resolve().parents[2]
    for candidate in ([Path(env)] if env else []) + [here.parent / "shared" / "apple-schemas"]:
        if (candidate / "TopLevel.yaml").is_file():
            return candidate
    pytest.skip("Apple's payload schemas are not available (set MAILSETUP_APPLE_SCHEMAS)")


def _keys(name: str) -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load((schema_dir() / f"{name}.yaml").read_text())
    return {k["key"]: k for k in doc["payloadkeys"]}


def _check(where: str, data: dict[str, Any], keys: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    for key, value in data.items():
        spec = keys.get(key)
        if spec is None:
            problems.append(f"{where}: unknown key {key}")
            continue
        kind = _TYPES.get(spec["type"])
        if kind is not None and not isinstance(value, kind):
            problems.append(f"{where}: {key} must be {spec['type']}")
        if kind is int and isinstance(value, bool):
            problems.append(f"{where}: {key} must be an integer, not a boolean")
        if "rangelist" in spec and value not in spec["rangelist"]:
            problems.append(f"{where}: {key}={value!r} not in {spec['rangelist']}")
    for key, spec in keys.items():
        if spec.get("presence") == "required" and key not in data:
            problems.append(f"{where}: required key {key} missing")
    return problems


def profile_problems(profile: dict[str, Any]) -> list[str]:
    """Every deviation of ``profile`` from Apple's schemas; empty when it conforms."""
    top = _keys("TopLevel")
    problems = _check("TopLevel", profile, top)
    common = _keys("CommonPayloadKeys")
    for i, payload in enumerate(profile.get("PayloadContent", [])):
        kind = payload.get("PayloadType", "?")
        keys = {**common, **_keys(kind)}
        problems += _check(f"PayloadContent[{i}] {kind}", payload, keys)
    return problems
