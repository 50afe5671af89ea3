"""Team mode runs against a real PostgreSQL server that the tests start themselves
(tests/helpers/pg.py): one server per session, one fresh database per test."""

from __future__ import annotations

import pytest

from tests.helpers import pg


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server on 127.0.0.1 (SCRAM), stopped (fast) after the session.
    Without PostgreSQL a developer machine skips with the reason; CI=true fails instead: the team
    tests must never silently not run in CI."""
    try:
        server = pg.start_server()
        pg.prepare_template(server)
    except (pg.PgUnavailable, ImportError, OSError) as e:
        message = f"cannot start a PostgreSQL server for the team tests: {e}"
        if pg.in_ci():
            pytest.fail(message + " - CI=true: failing instead of skipping (bash .ci/install installs it)",
                        pytrace=False)
        pytest.skip(message)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_db(pg_server):
    """This test's own database, copied from the template; dropped (with its login roles) after."""
    db = pg.create_database(pg_server)
    try:
        yield db
    finally:
        db.drop()


@pytest.fixture
def shop_team(pg_db):
    """tests/helpers/team.Team on this test's database (a fresh team id: roles are cluster-wide):
    the sync clients the test opened are closed and the team's roles dropped afterwards."""
    from assistant.team import schema
    from tests.helpers.team import Team, close_panels

    team = Team(pg_db)
    try:
        yield team
    finally:
        close_panels()
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


@pytest.fixture
def file_keyring(tmp_path, monkeypatch):
    """keyrings.alt's plain-text file backend in the test's tmp folder, named explicitly (kefu
    refuses a plain-text backend nobody chose; CI has no Secret Service)."""
    import keyring
    import keyrings.alt.file

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    backend = keyrings.alt.file.PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def named_team(shop_team):
    """shop_team with the agents' display names set, as a supervisor would (王五, 李四, 张主管):
    the tests that check what a panel shows about a colleague read these names."""
    with shop_team.admin() as admin:
        for name, display in (("wang", "王五"), ("li", "李四"), ("sup", "张主管")):
            admin.execute("UPDATE agents SET display_name = %s WHERE role = %s",
                          [display, f"kefu_{shop_team.id}_{name}"])
    return shop_team
