"""Canonical JSON and the state and chain hashes that make games replayable."""

from __future__ import annotations

import hashlib
import json
from typing import Any

# One encoder for every call: json.dumps() builds a new one whenever it is
# given options, and a turn encodes twice.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
# CPython's C encoder is markedly faster with ensure_ascii=True, and for text
# that is all ASCII the two encoders write the same bytes. An ASCII encoding
# without any "\u" in it proves there was no other text, so it can stand;
# otherwise the canonical (non-ASCII) encoding is made after all.
_ASCII_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def canonical_json(obj: Any) -> str:
    text = _ASCII_ENCODER.encode(obj)
    if "\\u" not in text:
        return text
    return _ENCODER.encode(obj)


def state_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def chain_hash(prev_chain: str, action: dict[str, Any], state_hash: str) -> str:
    text = prev_chain + canonical_json(action) + state_hash
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
