"""The migrations run both ways, from empty to head and back, on the suite's database kind.

A separate database (SQLite file, or a fresh PostgreSQL database) so the suite's own schema
is left alone.
"""

import os
import secrets

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from cooperative import create_app
from cooperative.extensions import db


def scratch_database(tmp_path):
    """A URL for an empty database of the same kind as the suite's; and a cleanup."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        return f"sqlite:///{tmp_path / 'migrations.sqlite'}", lambda: None
    server = make_url(server_url)
    name = f"coop_migrations_{secrets.token_hex(4)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        connection.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))

    def drop():
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def table_names(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_and_upgrade_again(tmp_path):
    url, drop = scratch_database(tmp_path)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    try:
        with app.app_context():
            upgrade()
            assert table_names(db.engine) == {t.name for t in db.metadata.sorted_tables}

            downgrade(revision="base")
            assert table_names(db.engine) == set()

            upgrade()
            with db.engine.connect() as connection:
                diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
            assert diff == []
            db.engine.dispose()
    finally:
        drop()
