"""This process's file store (``BLABBER_STORAGE_URL``), and deleting objects once a change commits.

A message or room deletion removes its attachment rows in the transaction
and the stored bytes only after commit (:func:`delete_on_commit`), so a
rollback never leaves a row pointing at bytes that are gone. A failed
delete after commit leaves an unreferenced object behind (logged), never a
broken reference.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from blabber.settings import get_settings
from blabber.storage import Storage, StorageRefused, storage_from_url

log = logging.getLogger(__name__)
_KEY = "blabber_doomed_files"
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def get_storage() -> Storage:
    """The store the settings name, made once per process (boto3 clients are thread-safe)."""
    settings = get_settings()
    return storage_from_url(
        settings.storage_url, project_root=PROJECT_ROOT, s3_endpoint_url=settings.s3_endpoint_url
    )


def delete_on_commit(session: Session, keys: Iterable[str | None]) -> None:
    """Delete these stored objects when ``session`` commits (nothing on rollback)."""
    session.info.setdefault(_KEY, []).extend(key for key in keys if key)


def delete_now(keys: Iterable[str | None]) -> None:
    """Delete stored objects, logging (not raising) what the store refuses."""
    store = get_storage()  # tests replace the module attribute: callers look it up each time
    for key in keys:
        if not key:
            continue
        try:
            store.delete(key)
        except (StorageRefused, OSError):
            log.warning("could not delete stored file %s; it is left unreferenced", key)


@sa.event.listens_for(Session, "after_commit")
def _delete_after_commit(session: Session) -> None:
    keys = session.info.pop(_KEY, [])
    if keys:
        delete_now(keys)


@sa.event.listens_for(Session, "after_rollback")
def _keep_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
