"""The wire form of realtime events (blabber.realtime.events)."""

from __future__ import annotations

import json

import pytest

from blabber.realtime.events import MESSAGE_CREATED, Event


def test_json_roundtrip():
    event = Event(
        type=MESSAGE_CREATED,
        room_id=3,
        user_id=7,
        data={"body": "héllo \u202e\u200b 👋", "n": [1, 2], "nested": {"a": None}},
    )
    assert Event.from_json(event.to_json()) == event
    assert Event.from_json(event.to_json().encode()) == event


def test_defaults_roundtrip():
    assert Event.from_json(Event(type="typing").to_json()) == Event(type="typing")
    assert Event.from_json('{"type":"typing"}') == Event(type="typing")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        b"\xff\xfe",
        "[]",
        "null",
        "42",
        '"message.created"',
        "{}",
        '{"type": 5}',
        '{"type": null}',
        '{"type": "x", "room_id": "3"}',
        '{"type": "x", "room_id": 1.5}',
        '{"type": "x", "user_id": true}',
        '{"type": "x", "user_id": [1]}',
        '{"type": "x", "data": []}',
        '{"type": "x", "data": "text"}',
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_garbage_is_rejected_with_value_error(raw):
    with pytest.raises(ValueError):
        Event.from_json(raw)


def test_wire_form_is_compact_json():
    doc = json.loads(Event(type="x", room_id=1).to_json())
    assert doc == {"type": "x", "room_id": 1, "user_id": None, "data": {}}
