"""Canonical JSON and the state and chain hashes, exactly as the contract states."""

from __future__ import annotations

import hashlib
import json

from agents import canonical_json, chain_hash, state_hash


def test_canonical_json_sorts_keys_and_drops_spaces_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": [1, {"d": "é", "c": None}]}) == (
        '{"a":[1,{"c":null,"d":"é"}],"b":1}'
    )


def test_state_hash_is_sha256_of_canonical_utf8():
    data = {"z": "ü", "a": 1}
    expected = hashlib.sha256('{"a":1,"z":"ü"}'.encode()).hexdigest()
    assert state_hash(data) == expected


def test_chain_hash_joins_previous_chain_action_and_state_hash():
    action = {"type": "choose", "option": 2}
    expected = hashlib.sha256(
        ("abc" + '{"option":2,"type":"choose"}' + "def").encode()
    ).hexdigest()
    assert chain_hash("abc", action, "def") == expected


def test_canonical_json_is_the_same_for_ascii_escapes_and_literal_backslashes():
    # ASCII-only text takes a faster encoding path; these must not change it.
    data = {"plain": "a\tb\x01", "slash": "not an escape: \\u00e9", "é": ["ü"]}
    expected = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert canonical_json(data) == expected
    assert canonical_json({"plain": "a\tb\x01"}) == '{"plain":"a\\tb\\u0001"}'
