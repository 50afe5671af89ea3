"""The panel's live sync (assistant/services/teamsync.py) with the real store worker and a real
server: a supervisor's edit reaches the agent's SQLite within a second (NOTIFY, no polling), a
local change is pushed without waiting for the poll, and a lost server means "offline" with every
change kept and sent when it is back."""

from __future__ import annotations

import os
import secrets
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.core import outbox, replies, settings  # noqa: E402
from assistant.core.store import Store  # noqa: E402
from assistant.services import qtfix  # noqa: E402
from assistant.services.worker import StoreWorker  # noqa: E402
from tests.helpers import pg  # noqa: E402

psycopg = pg.require_psycopg()
from assistant.services.teamsync import TeamSync  # noqa: E402
from assistant.team import schema, sync  # noqa: E402

qtfix.guard()


@pytest.fixture
def team(pg_db):
    tid = "s" + secrets.token_hex(4)
    pw = {"sup": secrets.token_urlsafe(12), "wang": secrets.token_urlsafe(12)}
    with pg_db.connect() as admin:
        schema.apply(admin)
        schema.create_team(admin, tid)
        shop = str(schema.create_shop(admin, tid, "旗舰店"))
        schema.create_agent(admin, tid, "sup", pw["sup"], supervisor=True, shops=["旗舰店"])
        schema.create_agent(admin, tid, "wang", pw["wang"], shops=["旗舰店"])
        reply = str(admin.execute("INSERT INTO shop_replies (shop, title, body) VALUES (%s, '发货', '今天发') "
                                  "RETURNING id", [shop]).fetchone()[0])
    try:
        yield {"id": tid, "pw": pw, "shop": shop, "reply": reply, "db": pg_db}
    finally:
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


def login(team, name):
    return team["db"].connect(schema.agent_role(team["id"], name), team["pw"][name])


def joined(path, team, name) -> None:
    with Store(path) as store:
        settings.set(store, "team.server", "postgresql://127.0.0.1:1/x?sslmode=prefer")
        settings.set(store, "team.role", schema.agent_role(team["id"], name))


@pytest.fixture
def running(qtbot, tmp_path):
    started: list = []

    def start(team, name, **kw):
        path = tmp_path / f"{name}.db"
        joined(path, team, name)
        worker = StoreWorker(path)
        worker.start()
        service = TeamSync(worker, path, lambda store: sync.SyncClient(store, lambda: login(team, name)), **kw)
        worker.data_changed.connect(service.wake)
        states: list[tuple[str, str]] = []
        service.state_changed.connect(lambda s, d: states.append((s, d)))
        service.start()
        started.append((service, worker))
        try:
            qtbot.waitUntil(lambda: bool(states) and states[-1][0] == "online", timeout=10_000)
        except Exception as exc:
            raise AssertionError(f"{name}'s panel never came online: {states}") from exc
        return service, worker, path, states

    yield start
    for service, worker in started:
        service.stop()
        worker.stop()


def body_of(path, uuid) -> str | None:
    with Store(path) as store:
        rows = store.query("SELECT body FROM replies WHERE uuid = ?", (uuid,))
    return rows[0]["body"] if rows else None


def test_a_supervisors_edit_reaches_the_agents_store_within_a_second(qtbot, team, running):
    # polling is pushed out of the way (1 h): only the NOTIFY can bring it in time
    _service, worker, path, states = running(team, "wang", poll_s=3600)
    assert body_of(path, team["reply"]) == "今天发"  # the first round pulled the library
    # an idle panel stays idle: no round wakes itself (or the team) again
    seen = len(states)
    qtbot.wait(1500)
    assert len(states) - seen <= 2, states[seen:]
    changed: list[float] = []
    worker.data_changed.connect(lambda: changed.append(time.monotonic()))
    with login(team, "sup") as sup:
        sup.execute("UPDATE shop_replies SET body = '16点前下单今天发', version = 2 WHERE id = %s", [team["reply"]])
        committed = time.monotonic()
    qtbot.waitUntil(lambda: body_of(path, team["reply"]) == "16点前下单今天发", timeout=1000)
    qtbot.waitUntil(lambda: bool(changed), timeout=1000)
    assert changed[-1] - committed < 1.0


def test_a_local_change_is_pushed_at_once_and_kept_while_the_server_is_gone(qtbot, team, running):
    service, worker, path, states = running(team, "sup", poll_s=3600, retry_s=(0.3,))
    results: list = []
    service.synced.connect(results.append)

    def edit(body):
        worker.submit(lambda store: replies.update_reply(store, team["reply"], body=body), write=True)

    edit("主管改的")
    qtbot.waitUntil(lambda: any(r.pushed for r in results), timeout=3000)
    with team["db"].connect() as admin:
        assert admin.execute("SELECT body FROM shop_replies WHERE id = %s", [team["reply"]]).fetchone()[0] == "主管改的"
        # the server goes away for this agent: sessions cut, logins refused
        admin.execute(f"ALTER ROLE {schema.agent_role(team['id'], 'sup')} NOLOGIN")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                      [schema.agent_role(team["id"], "sup")])
    edit("离线时改的")
    qtbot.waitUntil(lambda: states[-1][0] == "offline", timeout=5000)
    with Store(path) as store:
        assert outbox.size(store) == 1  # kept, not lost
    assert body_of(path, team["reply"]) == "离线时改的"  # the panel keeps working on SQLite
    with team["db"].connect() as admin:
        admin.execute(f"ALTER ROLE {schema.agent_role(team['id'], 'sup')} LOGIN")
    qtbot.waitUntil(lambda: states[-1][0] == "online", timeout=5000)
    with team["db"].connect() as admin:
        qtbot.waitUntil(lambda: admin.execute("SELECT body FROM shop_replies WHERE id = %s",
                                              [team["reply"]]).fetchone()[0] == "离线时改的", timeout=3000)
    with Store(path) as store:
        assert outbox.size(store) == 0 and outbox.conflicts(store) == []


def test_the_app_wiring_shows_the_state_and_tells_a_problem_once(qtbot, tmp_path):
    """wire_team (assistant/app.py): the state reaches the panel's line; a problem retrying cannot
    fix (here: no password in the keyring) is told once, in both languages, not at every retry."""
    from assistant.app import wire_team
    from assistant.services.messages import MessageBridge
    from assistant.team.connection import TeamError

    path = tmp_path / "kefu.db"
    with Store(path):
        pass
    worker = StoreWorker(path)
    worker.start()
    states: list[tuple[str, str]] = []

    class PanelLine:  # the one panel method wire_team uses (tests/ui/team tests the real line)
        def set_team_state(self, state: str, detail: str = "") -> None:
            states.append((state, detail))

    messages = MessageBridge()
    posted: list = []
    messages.message.connect(posted.append)
    calls: list[int] = []

    def no_password(store):
        calls.append(1)
        raise TeamError("系统密码库里没有团队密码：请重新运行 kefu team connect",
                        "the team password is not in the OS keyring: run `kefu team connect` again")

    line = PanelLine()  # kept alive: Qt holds only a weak reference to a bound method's object
    team_sync = wire_team(None, worker, line, path, messages, open_client=no_password)
    team_sync._retry_s = (0.05,)  # noqa: SLF001 - retry fast here; the app keeps 2 s ... 60 s
    team_sync.start()
    try:
        offline = ("offline", "系统密码库里没有团队密码：请重新运行 kefu team connect")
        qtbot.waitUntil(lambda: len(calls) >= 3 and offline in states, timeout=5000)
        assert states[0] == ("syncing", "")
        qtbot.wait(100)
        assert len(posted) == 1 and "keyring" in posted[0].en and "密码库" in posted[0].zh
    finally:
        team_sync.stop()
        worker.stop()


def test_after_a_handover_the_receivers_panel_holds_the_buyers_and_their_reminders_within_5_s(
        qtbot, team, running, pg_db):
    """Two live panels against one server: wang hands over (交班) to li; li's panel, woken by the
    server, holds the buyers and has their reminders, and wang's panel has none (one owner)."""
    from assistant.core import reminders

    with pg_db.connect() as admin:
        team["pw"]["li"] = secrets.token_urlsafe(12)
        schema.create_agent(admin, team["id"], "li", team["pw"]["li"], shops=["旗舰店"], display_name="李四")
    _, wang_worker, wang_path, _ = running(team, "wang", poll_s=3600)
    _, _, li_path, _ = running(team, "li", poll_s=3600)
    done: list = []
    wang_worker.submit(lambda store: [reminders.star(store, platform="taobao", nickname=n) for n in ("甲", "乙")],
                       done.append, write=True)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)

    def pending(path):
        with Store(path) as store:
            return store.query("SELECT count(*) AS n FROM reminders WHERE state = 'pending' AND kind = 'chase'")[0]["n"]

    def held_by(path, role):
        with Store(path) as store:
            return store.query("SELECT count(*) AS n FROM buyers WHERE holder = ?", (role,))[0]["n"]

    wang_role, li_role = (schema.agent_role(team["id"], n) for n in ("wang", "li"))
    qtbot.waitUntil(lambda: held_by(li_path, wang_role) == 2, timeout=5000)  # li's panel sees wang's buyers
    handed: list = []
    wang_worker.submit(lambda store: reminders.hand_over_team(store, li_role, "李四"), handed.append, write=True)
    qtbot.waitUntil(lambda: bool(handed), timeout=5000)
    began = time.monotonic()
    qtbot.waitUntil(lambda: held_by(li_path, li_role) == 2 and pending(li_path) == 2, timeout=5000)
    took = time.monotonic() - began
    print(f"\nhandover -> receiver's panel holds 2 buyers with their reminders: {took * 1000:.0f} ms")
    assert pending(wang_path) == 0 and took < 5.0


def test_a_panel_that_signs_in_picks_up_the_shops_pool_with_its_reminders(qtbot, team, running, pg_db):
    """wang hands over to the pool and goes home; li's panel starts later: at its first connection
    it holds wang's buyer and has wang's very reminder (same id, same due time), once."""
    from assistant.core import reminders

    with pg_db.connect() as admin:
        team["pw"]["li"] = secrets.token_urlsafe(12)
        schema.create_agent(admin, team["id"], "li", team["pw"]["li"], shops=["旗舰店"], display_name="李四")
    _, wang_worker, wang_path, _ = running(team, "wang", poll_s=3600)
    done: list = []
    wang_worker.submit(lambda store: reminders.star(store, platform="taobao", nickname="甲"), done.append, write=True)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)

    def reminders_of(path):
        with Store(path) as store:
            return [tuple(r) for r in store.query("SELECT uuid, due_at FROM reminders WHERE state = 'pending' "
                                                  "AND kind = 'chase'")]

    before = reminders_of(wang_path)
    handed: list = []
    wang_worker.submit(lambda store: reminders.hand_over_team(store, None), handed.append, write=True)
    def unsent(path):
        with Store(path) as store:
            return outbox.size(store)

    qtbot.waitUntil(lambda: bool(handed) and unsent(wang_path) == 0, timeout=5000)
    with pg_db.connect() as admin:
        assert admin.execute("SELECT count(*) FROM reminders WHERE owner IS NULL AND state = 'pending'").fetchone() == (1,)
    # li's panel starts, wired as the app wires it: the agent is told what was picked up
    from assistant.app import wire_team
    from assistant.services.messages import MessageBridge

    li_path = wang_path.parent / "li.db"
    joined(li_path, team, "li")
    li_worker = StoreWorker(li_path)
    li_worker.start()

    class PanelLine:
        def set_team_state(self, state: str, detail: str = "") -> None:
            pass

    line, messages, posted = PanelLine(), MessageBridge(), []
    messages.message.connect(posted.append)
    li_sync = wire_team(None, li_worker, line, li_path, messages,
                        open_client=lambda store: sync.SyncClient(store, lambda: login(team, "li")))
    li_sync.start()
    try:
        li_role = schema.agent_role(team["id"], "li")
        qtbot.waitUntil(lambda: reminders_of(li_path) == before, timeout=5000)
        with Store(li_path) as store:
            assert store.query("SELECT holder FROM buyers")[0]["holder"] == li_role
        assert reminders_of(wang_path) == []
        assert [(m.zh, m.en) for m in posted] == [("已从店铺待接池接手 1 位买家，他们的提醒在本机响起",
                                                   "Buyers picked up from the shop's pool: 1; their reminders "
                                                   "now ring on this panel")]
    finally:
        li_sync.stop()
        li_worker.stop()


def test_a_server_call_runs_on_the_sync_thread_and_offline_fails_at_once(qtbot, team, running):
    import threading

    service, _worker, _path, states = running(team, "sup", poll_s=3600, retry_s=(0.3,))
    got: list = []
    service.call(lambda conn: (conn.execute("SELECT current_user").fetchone()[0], threading.current_thread().name),
                 got.append, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=3000)
    assert got == [(schema.agent_role(team["id"], "sup"), "kefu-team-sync")]
    with team["db"].connect() as admin:
        admin.execute(f"ALTER ROLE {schema.agent_role(team['id'], 'sup')} NOLOGIN")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                      [schema.agent_role(team["id"], "sup")])
    service.wake()
    qtbot.waitUntil(lambda: states[-1][0] == "offline", timeout=5000)
    errors: list = []
    service.call(lambda conn: 1, errors.append, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert "offline" in errors[0].en and "离线" in errors[0].zh
    with team["db"].connect() as admin:
        admin.execute(f"ALTER ROLE {schema.agent_role(team['id'], 'sup')} LOGIN")
