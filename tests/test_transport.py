"""The feed packet is exactly what Reflex 0.10 sends for a state delta.

The live runtime builds ``FeedState`` deltas itself (encoded once for all
viewers) instead of letting Reflex compute them per tab. If a Reflex upgrade
changed the update's shape or the field suffix, the browser would silently
ignore every feed packet: these tests fail first.
"""

from __future__ import annotations

import json

from reflex.state import StateUpdate, serialize_state_update
from reflex_base.constants.state import FIELD_MARKER

from blabber.realtime.transport import feed_packet, feed_room
from blabber.state.feed import FeedState

FEED = FeedState.get_full_name()


def test_reflex_version_and_field_suffix_are_the_ones_pinned():
    from importlib.metadata import version

    assert version("reflex").startswith("0.10.")
    assert FIELD_MARKER == "_rx_state_"


def test_feed_packet_equals_reflexs_own_serialisation_of_the_same_delta():
    payload = {"tail": [{"id": 1, "body": "hi"}], "typing_text": "bob is typing"}
    reflex_update = StateUpdate(
        delta={FEED: {"tail_rx_state_": payload["tail"], "typing_text_rx_state_": "bob is typing"}}
    )
    assert feed_packet(FEED, payload) == serialize_state_update(reflex_update)
    assert json.loads(json.dumps(feed_packet(FEED, payload))) == feed_packet(FEED, payload)


def test_feed_state_names_every_var_a_packet_sets():
    """A payload key that is not a FeedState var would be dropped by the browser."""
    from blabber.realtime.feeds import RoomFeed, empty_snapshot

    fields = set(FeedState.get_fields())
    snapshot = RoomFeed(1, "general", loaded=True).snapshot("", degraded=False)
    assert set(snapshot) <= fields
    assert set(empty_snapshot(False)) <= fields
    assert FEED.endswith("blabber___state___feed____feed_state")


def test_feed_rooms_are_named_per_room():
    assert feed_room(12) == "feed:12"
