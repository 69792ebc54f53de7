"""Validate Apple configuration profiles against Apple's own payload schemas.

The schemas are the YAML files of Apple's device-management repository (``mdm/profiles``), kept
unchanged in ``../shared/apple-schemas/`` beside the repository. This module only reads them:
required keys (``presence``), value types (``type``), allowed values (``rangelist``), and
unknown keys; plus the profile-wide rules Apple documents in prose (unique PayloadUUIDs and
PayloadIdentifiers, UUID syntax).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import IN_CI

_REPO = Path(__file__).resolve().parent.parent


def schema_dir() -> Path:
    """``$MAILSETUP_APPLE_SCHEMAS`` or ``../shared/apple-schemas``; skip (fail in CI) if absent."""
    folder = Path(os.environ.get("MAILSETUP_APPLE_SCHEMAS", _REPO.parent / "shared/apple-schemas"))
    if not (folder / "TopLevel.yaml").is_file():
        message = f"Apple's payload schemas not found in {folder}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return folder


@functools.cache
def load(payload_type: str) -> dict[str, dict[str, Any]]:
    """Keys of one schema file by name (``TopLevel``, ``com.apple.mail.managed``, ...)."""
    doc = yaml.safe_load((schema_dir() / f"{payload_type}.yaml").read_text(encoding="utf-8"))
    return {spec["key"]: spec for spec in doc["payloadkeys"]}


_TYPES: dict[str, tuple[type, ...]] = {
    "<string>": (str,),
    "<integer>": (int,),
    "<boolean>": (bool,),
    "<array>": (list,),
    "<dictionary>": (dict,),
    "<data>": (bytes,),
    "<date>": (dt.datetime,),
    "<real>": (float, int),
}


def _check_value(where: str, spec: dict[str, Any], value: Any) -> list[str]:
    errors = []
    kind = spec["type"]
    allowed = _TYPES.get(kind)
    if allowed is not None:
        wrong_bool = kind in ("<integer>", "<real>") and isinstance(value, bool)
        if not isinstance(value, allowed) or wrong_bool:
            errors.append(f"{where}: expected {kind}, got {type(value).__name__}")
    if "rangelist" in spec and value not in spec["rangelist"]:
        errors.append(f"{where}: {value!r} not in {spec['rangelist']}")
    return errors


def validate_keys(
    where: str, payload: dict[str, Any], specs: dict[str, dict[str, Any]]
) -> list[str]:
    errors = []
    for key, spec in specs.items():
        if spec.get("presence") == "required" and key not in payload:
            errors.append(f"{where}: required key {key} missing")
    for key, value in payload.items():
        spec = specs.get(key)
        if spec is None:
            errors.append(f"{where}: {key} is not a key of this payload")
        else:
            errors.extend(_check_value(f"{where}.{key}", spec, value))
    return errors


def validate_profile(profile: dict[str, Any]) -> list[str]:
    """Every problem found in ``profile`` (a parsed .mobileconfig); empty when valid."""
    errors = validate_keys("profile", profile, load("TopLevel"))
    uuids = [profile.get("PayloadUUID")]
    identifiers = [profile.get("PayloadIdentifier")]
    for i, payload in enumerate(profile.get("PayloadContent", [])):
        ptype = payload.get("PayloadType", "?")
        where = f"PayloadContent[{i}]({ptype})"
        if not (schema_dir() / f"{ptype}.yaml").is_file():
            errors.append(f"{where}: no Apple schema for this payload type")
            continue
        specs = {**load("CommonPayloadKeys"), **load(ptype)}
        errors.extend(validate_keys(where, payload, specs))
        uuids.append(payload.get("PayloadUUID"))
        identifiers.append(payload.get("PayloadIdentifier"))
    for value in uuids:
        try:
            uuid.UUID(str(value))
        except ValueError:
            errors.append(f"PayloadUUID {value!r} is not a UUID")
    if len(set(uuids)) != len(uuids):
        errors.append("PayloadUUIDs are not unique")
    if len(set(identifiers)) != len(identifiers):
        errors.append("PayloadIdentifiers are not unique")
    return errors
