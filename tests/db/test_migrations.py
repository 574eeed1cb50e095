"""The project schema comes from the Alembic migrations: an empty SQLite or PostgreSQL database upgraded to the
latest revision has exactly the models' tables, and an older database (made by create_all) is taken over."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from bot import db
from bot.paths import PROJECT_ROOT


def test_empty_sqlite_upgraded_has_exactly_the_models_schema(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert db.upgrade(engine=engine) == db.head_revision()
    assert db.schema_differences(engine) == []
    assert set(inspect(engine).get_table_names()) == {*db.import_models().tables, "alembic_version"}


def test_empty_postgresql_upgraded_has_exactly_the_models_schema(postgres_url: str) -> None:
    engine = db.make_engine(postgres_url)
    assert db.upgrade(engine=engine) == db.head_revision()
    assert db.schema_differences(engine) == []
    assert set(inspect(engine).get_table_names()) == {*db.import_models().tables, "alembic_version"}
    assert db.upgrade(engine=engine) == db.head_revision()  # a second upgrade (another process) changes nothing


def test_downgrade_to_nothing_then_upgrade_again_on_postgresql(postgres_url: str) -> None:
    from alembic import command

    engine = db.make_engine(postgres_url)
    db.upgrade(engine=engine)
    with engine.connect() as connection:
        command.downgrade(db.alembic_config(postgres_url, connection), "base")
        connection.commit()
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    db.upgrade(engine=engine)
    assert db.schema_differences(engine) == []


def test_database_made_by_create_all_before_migrations_is_stamped_then_upgraded(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    models = db.import_models()
    old_tables = [models.tables[name] for name in db.BASELINE_TABLES if name != "places"]  # one table missing
    models.create_all(engine, tables=old_tables)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO secretariat_tokens (token_hash, commune, name, is_admin, created_at) "
                                "VALUES ('h', '59350', 'Mairie', 0, '2026-01-01')"))
    db.upgrade(engine=engine)
    assert db.current_revision(engine) == db.head_revision()
    assert db.schema_differences(engine) == []
    with engine.connect() as connection:  # the data of before is kept
        assert connection.execute(text("SELECT name FROM secretariat_tokens")).scalar_one() == "Mairie"


def test_get_engine_brings_a_fresh_database_to_the_latest_revision(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert db.current_revision(engine) == db.head_revision()


def test_cli_check_fails_on_a_database_behind_the_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    assert db.main(["--db-url", url, "check"]) == 1  # never migrated
    assert db.main(["--db-url", url, "upgrade"]) == 0
    assert db.main(["--db-url", url, "check"]) == 0
    assert db.head_revision() in capsys.readouterr().out


def _declares_project_table(path: Path) -> bool:
    """True when a module calls Table(..., metadata, ...) on the project metadata."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Table" and len(node.args) > 1:
            second = node.args[1]
            if (isinstance(second, ast.Name) and second.id == "metadata") or (
                    isinstance(second, ast.Attribute) and second.attr == "metadata"):
                return True
    return False


def test_every_module_declaring_tables_is_known_to_the_migrations() -> None:
    declaring = {
        ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
        for path in (PROJECT_ROOT / "bot").rglob("*.py") if _declares_project_table(path)
    }
    assert declaring and declaring <= set(db.MODEL_MODULES)


def test_no_runtime_code_creates_tables_outside_the_migrations() -> None:
    offenders = [
        str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "bot").rglob("*.py")
        if "create_all(" in path.read_text(encoding="utf-8") and path.name != "db.py"
    ]
    assert offenders == []


def test_database_made_by_create_all_of_todays_models_is_stamped_at_the_latest_revision(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'made.db'}")
    db.import_models().create_all(engine)
    db.upgrade(engine=engine)
    assert db.current_revision(engine) == db.head_revision()
    assert db.schema_differences(engine) == []
