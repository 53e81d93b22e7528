"""Alembic migrations match the models and run both ways, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import blabber.models  # noqa: F401  (register tables)
from alembic import command
from blabber import db
from blabber.models import is_search_index_object
from tests.conftest import PROJECT_ROOT


def alembic_config(engine: sa.Engine) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def schema_diff(engine: sa.Engine) -> list:
    with engine.connect() as conn:
        opts = {
            "compare_type": True,
            "include_object": lambda _o, name, *_: not is_search_index_object(name),
        }
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, SQLModel.metadata)


def table_names(engine: sa.Engine) -> set[str]:
    """The modelled tables present (not alembic's, nor the search index's)."""
    names = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    return {n for n in names if not is_search_index_object(n)}


def test_the_search_index_is_there_and_goes_with_a_downgrade(engine):
    """Migration 0013's index exists at head and is removed by its downgrade."""
    cfg = alembic_config(engine)

    def index_present() -> bool:
        inspector = sa.inspect(engine)
        if engine.dialect.name == "postgresql":
            return "search_vector" in {c["name"] for c in inspector.get_columns("messages")}
        return "messages_fts" in inspector.get_table_names()

    assert index_present()
    engine.dispose()
    command.downgrade(cfg, "0012_site_admin_invites")
    engine.dispose()
    assert not index_present()
    command.upgrade(cfg, "head")
    engine.dispose()
    assert index_present()


def test_head_matches_the_models(engine):
    assert schema_diff(engine) == []


@pytest.mark.slow
def test_downgrade_to_base_then_upgrade_again(engine):
    cfg = alembic_config(engine)
    expected = {t.name for t in SQLModel.metadata.sorted_tables}
    assert table_names(engine) == expected
    engine.dispose()
    command.downgrade(cfg, "base")
    engine.dispose()
    assert table_names(engine) == set()
    command.upgrade(cfg, "head")
    engine.dispose()
    assert table_names(engine) == expected
    assert schema_diff(engine) == []


def test_timestamps_are_timezone_aware_columns(engine):
    inspector = sa.inspect(engine)
    checked = 0
    for table in SQLModel.metadata.sorted_tables:
        for column in inspector.get_columns(table.name):
            if column["name"].endswith("_at"):
                checked += 1
                assert isinstance(column["type"], sa.DateTime), (table.name, column["name"])
                if engine.dialect.name == "postgresql":  # SQLite has no zone-aware type
                    assert column["type"].timezone, (table.name, column["name"])
    assert checked >= 10


def test_normalize_url_pins_psycopg2():
    assert db.normalize_url("postgresql://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert db.normalize_url("postgres://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert db.normalize_url("sqlite:///x.db") == "sqlite:///x.db"
