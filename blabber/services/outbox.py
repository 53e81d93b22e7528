"""Publish realtime events only once the surrounding transaction commits.

Modelled on Zulip's ``send_event_on_commit``: a service calls
:func:`publish_on_commit`; the event waits in ``session.info`` and is handed
to the broker by an ``after_commit`` hook, or dropped on rollback. A reader
notified of an event can therefore always find its row in the database.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from blabber.realtime.broker import BrokerUnavailable, get_broker
from blabber.realtime.events import Event

log = logging.getLogger(__name__)
_KEY = "blabber_pending_events"


def publish_on_commit(session: Session, event: Event) -> None:
    """Queue ``event`` for publication when ``session`` commits."""
    session.info.setdefault(_KEY, []).append(event)


@sa.event.listens_for(Session, "after_commit")
def _flush_events(session: Session) -> None:
    events = session.info.pop(_KEY, [])
    broker = get_broker() if events else None
    for event in events:
        try:
            broker.publish(event)  # type: ignore[union-attr]
        except BrokerUnavailable:
            # The row is committed; clients catch up from the DB on reconnect.
            log.warning("broker unavailable; event %s not published live", event.type)


@sa.event.listens_for(Session, "after_rollback")
def _drop_events(session: Session) -> None:
    session.info.pop(_KEY, None)
