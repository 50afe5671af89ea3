"""The settings dialog's 团队 page against the real server, as an agent joins from the panel: the
login runs off the GUI thread, the password reaches the keyring only, the panel's live sync starts
without a restart; every failure is one line with nothing stored; 断开 refuses while changes wait
to be sent (with a force button) and stops the sync.

Keyring: keyrings.alt's file backend named explicitly (tests/team/conftest.py file_keyring)."""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers import pg  # noqa: E402

pg.require_psycopg()
import keyring  # noqa: E402
import keyring.backends.fail  # noqa: E402

from assistant.core import outbox, replies, settings  # noqa: E402
from assistant.core.store import Store  # noqa: E402
from assistant.errors import ValidationError  # noqa: E402
from assistant.services import qtfix  # noqa: E402
from assistant.services.messages import MessageBridge  # noqa: E402
from assistant.services.worker import StoreWorker  # noqa: E402
from assistant.team import connection, schema  # noqa: E402
from assistant.ui.settings.settings_dialog import SettingsDialog  # noqa: E402
from assistant.ui.settings.team_page import TeamPage, with_ca  # noqa: E402
from assistant.ui.team.link import TeamLink  # noqa: E402
from assistant.ui.widgets import i18n  # noqa: E402

qtfix.guard()

PASSWORD = "Zq7-secret-Pw-unique-9Xk"
SHOTS = os.environ.get("KEFU_SHOT_DIR")  # set it to keep screenshots of the page (zh and en)


@pytest.fixture
def team(pg_db):
    name = "u" + secrets.token_hex(4)
    with pg_db.connect() as admin:
        schema.apply(admin)
        schema.create_team(admin, name)
        schema.create_shop(admin, name, "旗舰店")
        schema.create_shop(admin, name, "二店")
        schema.create_agent(admin, name, "wang", PASSWORD, shops=["旗舰店", "二店"], display_name="王五")
        schema.create_agent(admin, name, "sup", PASSWORD + "s", supervisor=True, shops=["旗舰店"])
    try:
        yield name
    finally:
        with pg_db.connect() as admin:
            pg_db.roles.extend(schema.team_roles(admin))


@pytest.fixture(autouse=True)
def _styled_and_chinese(qapp):
    from assistant.ui.widgets import style

    style.apply(qapp)
    yield
    if i18n.current() != "zh_CN":
        i18n.install("zh_CN")


class App:
    """What app.py wires for team mode: the store worker, a real panel, wire_team and the TeamLink."""

    def __init__(self, qtbot, path: Path) -> None:
        from assistant.app import wire_team
        from assistant.ui.panel.panel import Panel

        self.path = path
        with Store(path) as store:
            config = settings.get_all(store)
        self.worker = StoreWorker(path)
        self.worker.start()
        self.messages = MessageBridge()
        self.panel = Panel(self.worker, config, data_dir=path.parent, version="test")
        qtbot.addWidget(self.panel)
        self.panel.show()
        self.started: list = []

        def start_sync():
            sync = wire_team(None, self.worker, self.panel, path, self.messages)
            self.started.append(sync)
            return sync

        self.link = TeamLink(self.worker, start_sync)
        self.link.attached.connect(self.panel.attach_team)
        self.panel.team_link = self.link

    def open_settings(self, qtbot) -> tuple[SettingsDialog, TeamPage]:
        self.panel.open_settings()  # as the panel's menu does: the dialog gets the panel's TeamLink
        dialog = next(d for d in self.panel.findChildren(SettingsDialog) if d.isVisible())
        page = dialog.team_page
        assert page is not None
        dialog.show_page("team")
        qtbot.waitUntil(lambda: dialog.save_button.isEnabled(),
                        timeout=5000)
        return dialog, page

    def stop(self) -> None:
        self.link.shutdown()
        self.worker.stop()


@pytest.fixture
def app(qtbot, tmp_path, pg_db):
    """Set up after the server's database (and so stopped before it is dropped)."""
    (tmp_path / "data").mkdir()
    made = App(qtbot, tmp_path / "data" / "kefu.db")
    yield made
    made.stop()


def url(pg_db, team, name="wang", query=""):
    return f"postgresql://kefu_{team}_{name}@{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}{query}"


def keyring_user(pg_db, team, name="wang"):
    return f"kefu_{team}_{name}@{pg_db.server.host}:{pg_db.server.port}"


def team_settings(path) -> list:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT key, value FROM settings WHERE key LIKE 'team.%' ORDER BY key").fetchall()


def fill(page: TeamPage, address: str, password: str, ca: str = "") -> None:
    page.url.setText(address)
    page.ca.setText(ca)
    page.password.setText(password)


def connect(qtbot, page: TeamPage, timeout: int = 10_000) -> None:
    """Click 连接 and wait for its outcome: the connected view, or an error line."""
    page.connect_button.click()
    qtbot.waitUntil(lambda: not page.link.busy, timeout=timeout)
    qtbot.waitUntil(lambda: page.error.isVisible() or page.showing() == "joined", timeout=timeout)


def shot(widget, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def test_connect_from_the_settings_dialog_starts_the_live_sync(qtbot, app, pg_db, team, file_keyring):
    dialog, page = app.open_settings(qtbot)
    assert page.showing() == "join" and page.connect_button.isVisible()
    assert app.panel.team_sync is None and not app.panel.team_state.isVisible()
    shot(dialog, "settings-team-join-zh")
    fill(page, url(pg_db, team), PASSWORD)

    # the login happens on a helper thread, never on the GUI thread (nor on the store worker)
    threads: list[str] = []
    real_check = connection.check

    def check(*args):
        threads.append(threading.current_thread().name)
        return real_check(*args)

    connection.check = check
    try:
        connect(qtbot, page)
    finally:
        connection.check = real_check
    assert threads == ["kefu-team-link"]
    assert not page.error.isVisible(), page.error.text()
    assert page.done.text() == f"已连接团队服务器：kefu_{team}_wang（客服）。密码保存在系统密码库。"
    assert page.password.text() == ""
    assert file_keyring.get_password(connection.SERVICE, keyring_user(pg_db, team)) == PASSWORD
    server = f"postgresql://{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}?sslmode=prefer"
    assert team_settings(app.path) == [("team.kind", json.dumps("agent")), ("team.role", json.dumps(f"kefu_{team}_wang")),
                                       ("team.server", json.dumps(server))]
    assert PASSWORD.encode() not in b"".join(p.read_bytes() for p in app.path.parent.rglob("*") if p.is_file())

    # the panel's live sync runs now, without a restart: it comes online and pulls
    assert len(app.started) == 1 and app.panel.team_sync is app.started[0]
    qtbot.waitUntil(lambda: app.link.state == "online", timeout=10_000)
    qtbot.waitUntil(lambda: app.panel.team_state.isVisible() and app.panel.team_state.state == "online", timeout=5000)
    qtbot.waitUntil(lambda: page.values["last_sync"].text() not in ("", "从未"), timeout=5000)
    qtbot.waitUntil(lambda: page.values["state"].text() == "● 已同步", timeout=5000)  # between two rounds
    values = {k: v.text() for k, v in page.values.items()}
    assert values["server"] == f"{pg_db.server.host}:{pg_db.server.port}/{pg_db.name}  (sslmode=prefer)"
    assert values["role"] == f"kefu_{team}_wang  (客服)"
    assert (values["team"], values["shops"]) == (team, "二店、旗舰店")
    assert (values["outbox"], values["conflicts"], values["claims"]) == ("0 条修改", "0 条", "0 位买家")
    assert page.disconnect_button.isVisible() and not page.force_button.isVisible()
    shot(dialog, "settings-team-joined-zh")

    # the dialog's 保存 leaves the connection alone (team.* are not its editors)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    assert "team.server" in dict(team_settings(app.path))

    # English: a page already open follows the language; one opened now is English throughout
    dialog, page = app.open_settings(qtbot)
    i18n.install("en")
    qtbot.waitUntil(lambda: page.values["state"].text() == "● Synced", timeout=2000)
    assert page.labels["outbox"].text() == "Waiting to send" and page.disconnect_button.text() == "Disconnect"
    dialog.reject()
    dialog, page = app.open_settings(qtbot)
    qtbot.waitUntil(lambda: page.showing() == "joined" and page.values["outbox"].text() == "0 changes", timeout=5000)
    assert page.values["role"].text() == f"kefu_{team}_wang  (agent)" and page.values["claims"].text() == "0 buyers"
    shot(dialog, "settings-team-joined-en")
    dialog.reject()


@pytest.mark.parametrize("case", ["wrong password", "unreachable", "newer schema", "no keyring", "bad url",
                                  "no password"])
def test_each_failure_is_one_line_and_stores_nothing(qtbot, app, pg_db, team, file_keyring, monkeypatch, case):
    dialog, page = app.open_settings(qtbot)
    address, password = url(pg_db, team), PASSWORD
    expected = {
        "wrong password": f"服务器 {pg_db.server.host}:{pg_db.server.port} 拒绝登录：账号或密码不对",
        "unreachable": "无法连接团队服务器 127.0.0.1:{port}（5 秒内无响应或被拒绝）",
        "newer schema": f"服务器数据库版本 {schema.SCHEMA_VERSION + 1} 比本程序（{schema.SCHEMA_VERSION}）新，请升级 kefu",
        "no keyring": "本机没有可用的系统密码库（钥匙串），为安全起见不保存密码，未连接",
        "bad url": "团队服务器地址无效：地址里不能写密码（程序会询问密码）",
        "no password": "请输入密码",
    }[case]
    if case == "wrong password":
        password = "wrong-pw"
    elif case == "unreachable":
        port = pg.free_port()
        address = f"postgresql://kefu_{team}_wang@127.0.0.1:{port}/x"
        expected = expected.replace("{port}", str(port))
    elif case == "newer schema":
        with pg_db.connect() as admin:
            admin.execute("INSERT INTO kefu_schema (step, name, checksum) VALUES (%s, 'next', 'x')",
                          [schema.SCHEMA_VERSION + 1])
    elif case == "no keyring":
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        monkeypatch.setattr(keyring.core, "load_config", lambda: None)
        previous = keyring.get_keyring()
        keyring.set_keyring(keyring.backends.fail.Keyring())
    elif case == "bad url":
        address = url(pg_db, team).replace(f"kefu_{team}_wang@", f"kefu_{team}_wang:{PASSWORD}@")
    elif case == "no password":
        password = ""
    fill(page, address, password)
    try:
        connect(qtbot, page)
    finally:
        if case == "no keyring":
            keyring.set_keyring(previous)
    assert page.error.isVisible() and page.error.text() == expected
    assert "\n" not in page.error.text() and PASSWORD not in page.error.text()
    assert page.showing() == "join" and page.connect_button.isEnabled() and not page.busy.isVisible()
    assert team_settings(app.path) == []
    assert file_keyring.get_password(connection.SERVICE, keyring_user(pg_db, team)) is None
    assert app.started == [] and app.panel.team_sync is None
    if case == "wrong password":
        dialog.reject()
        i18n.install("en")
        dialog, page = app.open_settings(qtbot)
        fill(page, address, password)
        connect(qtbot, page)
        assert page.error.text() == (f"the server {pg_db.server.host}:{pg_db.server.port} refused the login: "
                                     "wrong role or password")
        shot(dialog, "settings-team-error-en")


def test_disconnect_refuses_unsent_changes_until_forced_and_stops_the_sync(qtbot, app, pg_db, team, file_keyring):
    dialog, page = app.open_settings(qtbot)
    fill(page, url(pg_db, team, "sup"), PASSWORD + "s")
    connect(qtbot, page)
    qtbot.waitUntil(lambda: app.link.state == "online", timeout=10_000)
    assert page.values["role"].text() == f"kefu_{team}_sup  (主管)"
    sync = app.panel.team_sync
    # the server goes away for this PC, then a change is made here: it waits in the outbox
    role = f"kefu_{team}_sup"
    with pg_db.connect() as admin:
        admin.execute(f"ALTER ROLE {role} NOLOGIN")
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
    qtbot.waitUntil(lambda: app.link.state == "offline", timeout=10_000)
    done: list = []
    app.worker.submit(lambda store: replies.share_reply(store, replies.create_reply(store, title="发货", body="今天发").id,
                                                        "旗舰店"), done.append, write=True)
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    qtbot.waitUntil(lambda: page.values["outbox"].text() == "1 条修改", timeout=5000)
    # offline between retries, with the reason the sync met (the role may not log in)
    qtbot.waitUntil(lambda: page.values["state"].text().startswith("● 离线，本机继续工作\n"), timeout=10_000)

    page.confirm = lambda text: True
    page.disconnect_button.click()
    qtbot.waitUntil(lambda: page.error.isVisible(), timeout=5000)
    assert page.error.text() == ("还有 1 条修改没有发送到团队服务器，未断开。连上服务器后会自动发送，之后再断开；"
                                 "或者放弃这些修改。")
    assert page.force_button.isVisible() and page.force_button.text() == "放弃 1 条修改并断开"
    assert "team.server" in dict(team_settings(app.path)) and app.panel.team_sync is sync  # still connected, still syncing
    shot(dialog, "settings-team-refused-zh")

    asked: list[str] = []
    page.confirm = lambda text: asked.append(text) or True
    page.force_button.click()  # the force button is the confirmation
    qtbot.waitUntil(lambda: page.showing() == "join" and not app.link.busy, timeout=10_000)
    assert asked == []
    assert page.done.text() == "已断开团队服务器，密码已从系统密码库删除。" and not page.error.isVisible()
    assert team_settings(app.path) == []
    assert file_keyring.get_password(connection.SERVICE, keyring_user(pg_db, team, "sup")) is None
    with Store(app.path) as store:
        assert outbox.size(store) == 0
        assert store.query("SELECT count(*) AS n FROM replies WHERE shop IS NOT NULL")[0]["n"] == 0
    # the sync has stopped: no thread, the panel's line and team menu are gone
    assert app.link.sync is None and app.panel.team_sync is None and app.link.state == ""
    assert not sync._thread.is_alive()  # noqa: SLF001
    assert not app.panel.team_state.isVisible()
    assert not app.panel.act_team.isVisible()


def test_disconnect_then_join_again_in_the_same_run(qtbot, app, pg_db, team, file_keyring):
    dialog, page = app.open_settings(qtbot)
    fill(page, url(pg_db, team), PASSWORD)
    connect(qtbot, page)
    qtbot.waitUntil(lambda: app.link.state == "online", timeout=10_000)
    asked: list[str] = []
    page.confirm = lambda text: asked.append(text) or False  # cancelled: nothing happens
    page.disconnect_button.click()
    assert len(asked) == 1 and "店铺话术留在本机" in asked[0]
    assert "team.server" in dict(team_settings(app.path)) and app.link.sync is not None
    page.confirm = lambda text: True
    page.disconnect_button.click()
    qtbot.waitUntil(lambda: page.showing() == "join" and not app.link.busy, timeout=10_000)
    assert team_settings(app.path) == [] and app.panel.team_sync is None
    first = app.started[0]
    # joining again starts a new sync; the old one stays stopped
    fill(page, url(pg_db, team), PASSWORD)
    connect(qtbot, page)
    qtbot.waitUntil(lambda: app.link.state == "online", timeout=10_000)
    assert len(app.started) == 2 and app.panel.team_sync is app.started[1]
    assert not first._thread.is_alive()  # noqa: SLF001
    qtbot.waitUntil(lambda: app.panel.team_state.isVisible(), timeout=5000)


def test_the_ca_file_becomes_sslrootcert_with_verify_full_unless_the_url_says(tmp_path):
    ca = tmp_path / "shop ca.crt"
    base = "postgresql://kefu_a_b@kefu-server.lan:5432/kefu"
    assert with_ca(base, "") == base
    assert with_ca(f" {base} ", f" {ca} ") == f"{base}?sslrootcert={str(ca).replace(' ', '%20')}&sslmode=verify-full"
    assert with_ca(base + "?sslmode=require", str(ca)) == (
        f"{base}?sslmode=require&sslrootcert={str(ca).replace(' ', '%20')}")
    ca.write_text("not checked here")
    target = connection.parse_url(with_ca(base, str(ca)))
    assert (target.sslmode, target.sslrootcert) == ("verify-full", str(ca.resolve()))
    # a missing file: the URL check's own one line
    with pytest.raises(ValidationError, match="does not exist"):
        connection.parse_url(with_ca(base, str(tmp_path / "missing.crt")))


def test_without_a_team_link_the_page_is_hidden(qtbot, tmp_path):
    path = tmp_path / "kefu.db"
    Store(path).close()
    worker = StoreWorker(path)
    worker.start()
    try:
        dialog = SettingsDialog(worker, {})
        qtbot.addWidget(dialog)
        assert dialog.team_page is None
        assert dialog.nav.item(dialog.page_index["team"]).isHidden()
    finally:
        worker.stop()
