"""The SQL contract: SQLite and PostgreSQL pass the same tests through ``make_engine``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from opencitybrain.accounts.tables import api_keys, departments, users
from opencitybrain.adapters.migrate import (
    TARGET_METADATA,
    alembic_config,
    current_revision,
    head_revision,
    migrations_dir,
    upgrade,
)
from opencitybrain.adapters.sql import PG_POOL_SIZE, make_engine, redact
from opencitybrain.kernel.errors import InvalidInput

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 9, 15, 30, 250000, tzinfo=CST)


def schema_diff(engine: sa.Engine) -> list[object]:
    """Return what autogenerate would change to make the database match the metadata."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, TARGET_METADATA))


def add_department(conn: sa.Connection, dept_id: str = "d-traffic") -> None:
    """Insert one department."""
    conn.execute(
        departments.insert().values(
            id=dept_id, name_zh="交通局", name_en="Traffic Bureau", kind="bureau", created_at=T0
        )
    )


def add_user(conn: sa.Connection, user_id: str = "u1", dept_id: str = "d-traffic") -> None:
    """Insert one user."""
    conn.execute(
        users.insert().values(
            id=user_id,
            username=f"user-{user_id}",
            display_name="张三",
            department_id=dept_id,
            roles=["operator", "审核员"],
            is_active=True,
            created_at=T0,
        )
    )


def count(conn: sa.Connection, table: sa.Table) -> int:
    """Return the number of rows in ``table``."""
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_upgrade_to_head_matches_metadata(sql_url: str) -> None:
    assert current_revision(sql_url) is None
    upgrade(sql_url)
    assert current_revision(sql_url) == head_revision()
    engine = make_engine(sql_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) >= {"departments", "users", "api_keys"}
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    with sql_engine.begin() as conn:
        add_department(conn)
    upgrade(sql_engine)
    upgrade(sql_engine, "head")
    assert current_revision(sql_engine) == head_revision()
    assert schema_diff(sql_engine) == []
    with sql_engine.connect() as conn:
        assert count(conn, departments) == 1


def test_downgrade_to_base_then_up_again(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    with sql_engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(sql_engine) is None
    assert not {"departments", "users", "api_keys"} & set(sa.inspect(sql_engine).get_table_names())
    upgrade(sql_engine)
    assert schema_diff(sql_engine) == []


def test_round_trip_keeps_aware_datetimes_and_json(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    expires = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    with sql_engine.begin() as conn:
        add_department(conn)
        add_user(conn)
        conn.execute(
            api_keys.insert().values(
                id="k1",
                user_id="u1",
                name="接口",
                secret_hash="h",
                created_at=T0,
                expires_at=expires,
            )
        )
    with sql_engine.connect() as conn:
        user = conn.execute(sa.select(users).where(users.c.id == "u1")).one()
        key = conn.execute(sa.select(api_keys).where(api_keys.c.id == "k1")).one()
    assert user.roles == ["operator", "审核员"]
    assert user.display_name == "张三"
    assert user.is_active is True
    assert user.created_at == T0  # the same instant...
    assert user.created_at.utcoffset() == timedelta(0)  # ...handed back in UTC
    assert key.expires_at == expires
    assert key.revoked_at is None


def test_naive_datetime_counts_as_utc(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    with sql_engine.begin() as conn:
        conn.execute(
            departments.insert().values(
                id="d1", name_zh="区", name_en="District", kind="district",
                created_at=datetime(2026, 1, 2, 3, 4, 5),
            )
        )  # fmt: skip
    with sql_engine.connect() as conn:
        got = conn.execute(sa.select(departments.c.created_at)).scalar_one()
    assert got == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_foreign_keys_are_enforced(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    with pytest.raises(sa.exc.IntegrityError), sql_engine.begin() as conn:
        add_user(conn, dept_id="no-such-department")
    with pytest.raises(sa.exc.IntegrityError), sql_engine.begin() as conn:
        conn.execute(
            departments.insert().values(
                id="child", name_zh="子", name_en="Child", kind="office",
                parent_id="no-such-parent", created_at=T0,
            )
        )  # fmt: skip


def test_unique_username_is_enforced(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)
    with sql_engine.begin() as conn:
        add_department(conn)
        add_user(conn, "u1")
    with pytest.raises(sa.exc.IntegrityError), sql_engine.begin() as conn:
        conn.execute(
            users.insert().values(
                id="u2", username="user-u1", display_name="李四", department_id="d-traffic",
                roles=[], is_active=True, created_at=T0,
            )
        )  # fmt: skip


def test_rolled_back_transaction_leaves_nothing(sql_engine: sa.Engine) -> None:
    upgrade(sql_engine)

    class Boom(Exception):
        pass

    def doomed() -> None:
        with sql_engine.begin() as conn:
            add_department(conn)
            add_user(conn)
            # DDL too: on SQLite this needs the engine to issue BEGIN itself.
            conn.execute(sa.text("CREATE TABLE scratch (id INTEGER)"))
            raise Boom

    with pytest.raises(Boom):
        doomed()
    with sql_engine.connect() as conn:
        assert count(conn, departments) == 0
        assert count(conn, users) == 0
    assert "scratch" not in sa.inspect(sql_engine).get_table_names()


# --- engine-specific details ----------------------------------------------------------------


def test_sqlite_creates_folder_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "city.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert path.exists()
        assert pragma["journal_mode"] == "wal"
        assert pragma["foreign_keys"] == 1
        assert int(pragma["busy_timeout"] or 0) > 0
        assert pragma["synchronous"] == 1  # NORMAL
    finally:
        engine.dispose()


def test_sqlite_in_memory_keeps_one_database() -> None:
    engine = make_engine("sqlite://")
    upgrade(engine)
    with engine.begin() as conn:
        add_department(conn)
    with engine.connect() as conn:
        assert count(conn, departments) == 1


@pytest.mark.postgres
def test_postgres_uses_psycopg_with_a_pool(postgres_url: str) -> None:
    for url in (postgres_url, postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)):
        engine = make_engine(url)
        try:
            assert engine.dialect.driver == "psycopg"
            assert engine.pool.size() == PG_POOL_SIZE  # type: ignore[attr-defined]
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        finally:
            engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "postgresql+asyncpg://u@h/db", "memory://", "not a url"]
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as info:
        make_engine(url)
    assert info.value.code == "sql.unsupported_url"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/city", "postgresql://app:***@db:5432/city"),
        ("postgresql://app@db/city?password=s3cret&sslmode=require",
         "postgresql://app@db/city?password=***&sslmode=require"),
        ("nats://tok3n@bus:4222", "nats://***@bus:4222"),
        ("sqlite:////var/lib/city.db", "sqlite:////var/lib/city.db"),
    ],
)  # fmt: skip
def test_redact_hides_secrets(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_migrations_dir_is_found_in_the_checkout() -> None:
    found = migrations_dir()
    assert (found / "env.py").is_file()
    assert (found / "versions").is_dir()
