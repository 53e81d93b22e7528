"""Alembic environment: Blabber's models, Blabber's database URL."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import SQLModel

import blabber.models  # noqa: F401  (register tables)
from alembic import context
from blabber.db import make_engine
from blabber.models import is_search_index_object
from blabber.settings import get_settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or get_settings().database_url


def _modelled(_object, name, _type, _reflected, _compare_to) -> bool:
    """Autogenerate compares everything but the search index (models.SEARCH_INDEX_OBJECTS)."""
    return not is_search_index_object(name)


def run_migrations_offline() -> None:
    """Emit SQL without a connection."""
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Apply migrations over a connection."""
    url = _url()
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            render_as_batch=url.startswith("sqlite"),
            include_object=_modelled,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
