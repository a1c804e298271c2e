"""Canonical JSON and the state and chain hashes that make games replayable."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# One encoder for every call: json.dumps() builds a new one whenever it is
# given options, and a turn encodes twice.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(obj: Any) -> str:
    return _ENCODER.encode(obj)


def state_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def chain_hash(prev_chain: str, action: dict[str, Any], state_hash: str) -> str:
    text = prev_chain + canonical_json(action) + state_hash
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
