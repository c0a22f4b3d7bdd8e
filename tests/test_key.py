"""Tests of grader.key: the answer key round-trips, stays private, and fails loudly if damaged."""

from __future__ import annotations

import json
import stat

import pytest

from grader.errors import CompareError
from grader.key import AnswerKey, key_path, load_key, save_key

VALUES = {
    "t-num": 42,
    "t-arr": [[1.0, 2.5], [-3.0, 1e-12]],
    "t-map": {"conv1": 896, "fc": 650},
    "t-shape": [8, 32, 16, 16],
    "t-nan": "nan",
}


def test_key_path(tmp_path):
    assert key_path(tmp_path, "ps1") == tmp_path / "key" / "ps1.json"


def test_save_and_load_round_trip(tmp_path):
    extras = {"t-train": {"losses": [2.3, 1.1]}}
    key = AnswerKey(
        assignment="ps1", fingerprint="0123456789abcdef", values=VALUES, seed=12345, extras=extras
    )
    path = key_path(tmp_path / "release", "ps1")
    save_key(key, path)  # creates release/key/
    assert load_key(path) == key
    assert json.loads(path.read_text()) == {
        "assignment": "ps1",
        "fingerprint": "0123456789abcdef",
        "values": VALUES,
        "extras": extras,
        "seed": 12345,
        "variant": "",
    }


def test_saved_key_is_private_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "key" / "ps1.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    save_key(AnswerKey("ps1", "f", {"a": 1}), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["ps1.json"]


def test_seed_is_random_and_in_range():
    seeds = {AnswerKey("ps1", "f", {}).seed for _ in range(20)}
    assert len(seeds) > 1
    assert all(0 <= s < 2**31 for s in seeds)


def test_missing_key_is_none(tmp_path):
    assert load_key(tmp_path / "key" / "ps1.json") is None


GOOD = {"assignment": "ps1", "fingerprint": "f", "values": {"a": 1}, "seed": 7}

DAMAGED = {
    "not-json": "{not json",
    "empty": "",
    "a-list": "[1, 2]",
    "a-string": '"key"',
    "no-values": json.dumps({k: v for k, v in GOOD.items() if k != "values"}),
    "no-seed": json.dumps({k: v for k, v in GOOD.items() if k != "seed"}),
    "values-null": json.dumps({**GOOD, "values": None}),
    "values-a-list-of-ints": json.dumps({**GOOD, "values": [1, 2]}),
    "seed-text": json.dumps({**GOOD, "seed": "seven"}),
}


@pytest.mark.parametrize("text", DAMAGED.values(), ids=DAMAGED.keys())
def test_damaged_key_is_a_compare_error(tmp_path, text):
    path = tmp_path / "ps1.json"
    path.write_text(text)
    with pytest.raises(CompareError) as err:
        load_key(path)
    message = str(err.value)
    assert message.startswith(f"{path}: the answer key is damaged (")
    assert message.endswith("); run `grade build`")


def test_non_utf8_key_is_a_compare_error(tmp_path):
    path = tmp_path / "ps1.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CompareError, match="the answer key is damaged"):
        load_key(path)
