"""Alembic's entry point: migrations run on the connection bot.db gives (or on the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.future import Connection

from bot.db import import_models, make_engine

config = context.config
target_metadata = import_models()


def _configure_and_run(connection: Connection) -> None:
    # Batch mode rebuilds SQLite tables for the ALTERs SQLite lacks; types are compared too.
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """`--sql` mode: print the SQL instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("Alembic needs a connection or sqlalchemy.url (see bot.db.alembic_config).")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _configure_and_run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
