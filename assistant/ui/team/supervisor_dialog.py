"""The supervisor's team view (团队管理): who follows whom with the 待接 pool and reassignment
(refreshed every REFRESH_MS while the dialog is shown, keeping the selection), the day's chases per
agent, the shop library's change history with revert, and the team's agents with 停用客服 (disable)
and 重置密码 (reset a password: needs CREATEROLE, else the admin's `kefu team set-password`).

Every server query and change goes through TeamSync.call (services/teamsync.py): it runs on the sync
thread with the supervisor's own connection and answers on the GUI thread; nothing here touches the
server from the GUI thread. The functions are those of assistant/team/supervisor.py, as the CLI uses
them (cli/team_supervisor.py); the server's grants and row-level security decide what may be done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QDate, QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core import zones
from ...errors import KnownError
from ...team import supervisor
from ..widgets import i18n

translate = QCoreApplication.translate

POOL = ""  # the holders tree's key for the 待接 pool


def clip(text: Any, width: int = 24) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def when(value: datetime | None, tz: tzinfo, fmt: str = "%m-%d %H:%M") -> str:
    return value.astimezone(tz).strftime(fmt) if value is not None else "-"


def error_line(exc: BaseException) -> str:
    """One line in the current language: a KnownError's own words, anything else by its class name
    (never its text: a server message may quote customer data)."""
    if isinstance(exc, KnownError):
        text = exc.message("en" if i18n.is_english() else "zh")
    else:
        text = translate("Supervisor", "团队服务器出错：{error}").replace("{error}", type(exc).__name__)
    return " ".join(text.split())


def change_summary(row: supervisor.HistoryRow) -> str:
    """before → after of what changed, clipped to one line."""
    after = row.after or {}
    if row.before is None:
        return translate("Supervisor", "新建：{title}").replace("{title}", clip(after.get("title")))
    if row.action == "deleted":
        return translate("Supervisor", "删除")
    before = row.before
    parts = []
    if row.action == "restored":
        parts.append(translate("Supervisor", "恢复删除"))
    if before.get("title") != after.get("title"):
        parts.append(translate("Supervisor", "标题：{before} → {after}")
                     .replace("{before}", clip(before.get("title"), 16)).replace("{after}", clip(after.get("title"), 16)))
    if before.get("body") != after.get("body"):
        parts.append(translate("Supervisor", "内容：{before} → {after}")
                     .replace("{before}", clip(before.get("body"), 20)).replace("{after}", clip(after.get("body"), 20)))
    for key, text in (("code", translate("Supervisor", "短码：{before} → {after}")),
                      ("group_path", translate("Supervisor", "分组：{before} → {after}"))):
        if before.get(key) != after.get(key):
            parts.append(text.replace("{before}", str(before.get(key) or "-")).replace("{after}",
                                                                                     str(after.get(key) or "-")))
    return " · ".join(parts) or translate("Supervisor", "无文字变化")


# ------------------------------------------------------------------ what runs on the sync thread
def load_holders(conn) -> tuple[supervisor.Me, dict[str, supervisor.Agent], list[supervisor.HeldBuyer]]:
    me = supervisor.require_supervisor(conn)
    return me, supervisor.agents(conn), supervisor.holders(conn)


def load_report(conn, start: datetime, end: datetime) -> tuple[dict[str, supervisor.Agent], list]:
    supervisor.require_supervisor(conn)
    return supervisor.agents(conn), supervisor.report(conn, start, end)


def load_history(conn) -> tuple[dict[str, supervisor.Agent], list[supervisor.HistoryRow]]:
    supervisor.require_supervisor(conn)
    return supervisor.agents(conn), supervisor.history(conn)


def do_reassign(conn, buyer: supervisor.HeldBuyer, to: str) -> supervisor.Reassigned:
    me = supervisor.require_supervisor(conn)
    return supervisor.reassign(conn, me, buyer.nickname, to, platform=buyer.platform, shop=buyer.shop)


def do_revert(conn, reply: str, version: int) -> supervisor.Reverted:
    supervisor.require_supervisor(conn)
    return supervisor.revert(conn, reply, version)


def do_disable(conn, role: str) -> tuple[supervisor.Agent, bool, int]:
    me = supervisor.require_supervisor(conn)
    return supervisor.disable(conn, me, role)


def may_reset(conn, role: str) -> supervisor.Agent:
    """Before the new password is asked: the agent, or the message sending this to the admin."""
    me = supervisor.require_supervisor(conn)
    agent = supervisor.resolve_agent(conn, me, role)
    if not supervisor.can_create_roles(conn):
        raise supervisor.needs_admin(me, agent)
    return agent


def do_reset(conn, role: str, password: str) -> supervisor.Agent:
    me = supervisor.require_supervisor(conn)
    return supervisor.reset_password_checked(conn, me, role, password)


class PasswordDialog(QDialog):
    """A new password for an agent, typed twice; checked here as the admin's commands check it."""

    def __init__(self, agent: supervisor.Agent, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PasswordDialog")
        self.setWindowTitle(translate("Supervisor", "重置密码"))
        self.setMinimumWidth(380)
        layout = QVBoxLayout(self)
        intro = QLabel(translate("Supervisor", "为 {name}（{role}）设置新密码。对方下次连接时使用新密码。")
                       .replace("{name}", agent.label).replace("{role}", agent.role))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.first = QLineEdit()
        self.second = QLineEdit()
        for edit in (self.first, self.second):
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(translate("Supervisor", "新密码"), self.first)
        form.addRow(translate("Supervisor", "再输一次"), self.second)
        layout.addLayout(form)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(translate("Supervisor", "重置密码"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(translate("Supervisor", "取消"))
        buttons.accepted.connect(self.check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def password(self) -> str:
        return self.first.text()

    def check(self) -> None:
        from ...errors import ValidationError
        from ...team.admin import check_new_password

        if self.first.text() != self.second.text():
            self.error.setText(translate("Supervisor", "两次输入的密码不一致"))
            self.error.show()
            return
        try:
            check_new_password(self.first.text())
        except ValidationError as exc:
            self.error.setText(error_line(exc))
            self.error.show()
            return
        self.accept()


def _table(columns: int) -> QTableWidget:
    table = QTableWidget(0, columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    return table


class SupervisorDialog(QDialog):
    """团队管理: three tabs, each loaded through team.call(fn, on_done, on_error)."""

    loaded = Signal(str)  # "holders" | "report" | "history", after its rows are shown
    changed = Signal(str)  # "reassign" | "revert" | "disable" | "reset", after the server took it
    REFRESH_MS = 10_000  # who follows whom is re-read this often while the dialog is shown

    def __init__(self, team: Any, tz: tzinfo | None = None, parent: QWidget | None = None,
                 today: date | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SupervisorDialog")
        self.team = team
        self.tz = tz or zones.local_zone()
        self.agents: dict[str, supervisor.Agent] = {}
        self.me: supervisor.Me | None = None
        self.agent_rows: list[supervisor.Agent] = []  # the 客服 tab's rows, in their order
        self.buyers: list[supervisor.HeldBuyer] = []
        self._holders_loading = False
        self._collapsed: set[str] = set()  # groups the supervisor folded: kept folded by a refresh
        self.reports: list[supervisor.AgentReport] = []
        self.history: list[supervisor.HistoryRow] = []
        self.setMinimumSize(560, 420)
        self.resize(720, 520)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(8)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)  # one message; a long one wraps instead of widening the dialog
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        # 跟进情况
        page = QWidget()
        col = QVBoxLayout(page)
        self.holders_hint = QLabel(objectName="Hint")
        self.holders_hint.setWordWrap(True)
        col.addWidget(self.holders_hint)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2, 3):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        col.addWidget(self.tree, 1)
        row = QHBoxLayout()
        self.holders_refresh = QPushButton()
        self.holders_refresh.clicked.connect(self.load_holders)
        row.addWidget(self.holders_refresh)
        self.holders_count = QLabel(objectName="Hint")
        row.addWidget(self.holders_count)
        row.addStretch(1)
        self.reassign_button = QPushButton(objectName="Primary")
        self.reassign_menu = QMenu(self)
        self.reassign_menu.aboutToShow.connect(self._fill_reassign_menu)
        self.reassign_button.setMenu(self.reassign_menu)
        row.addWidget(self.reassign_button)
        col.addLayout(row)
        self.tabs.addTab(page, "")

        # 今日
        page = QWidget()
        col = QVBoxLayout(page)
        row = QHBoxLayout()
        self.day_label = QLabel()
        row.addWidget(self.day_label)
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        start = today or datetime.now(self.tz).date()
        self.day.setDate(QDate(start.year, start.month, start.day))
        self.day.dateChanged.connect(lambda _d: self.load_report())
        row.addWidget(self.day)
        row.addStretch(1)
        self.report_refresh = QPushButton()
        self.report_refresh.clicked.connect(self.load_report)
        row.addWidget(self.report_refresh)
        col.addLayout(row)
        self.report_table = _table(5)
        header = self.report_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        col.addWidget(self.report_table, 1)
        self.report_empty = QLabel(objectName="Hint")
        self.report_empty.hide()
        col.addWidget(self.report_empty)
        self.tabs.addTab(page, "")

        # 话术变更
        page = QWidget()
        col = QVBoxLayout(page)
        self.history_table = _table(5)
        header = self.history_table.horizontalHeader()
        for c in range(4):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.history_table.itemSelectionChanged.connect(self._update_buttons)
        col.addWidget(self.history_table, 1)
        row = QHBoxLayout()
        self.history_refresh = QPushButton()
        self.history_refresh.clicked.connect(self.load_history)
        row.addWidget(self.history_refresh)
        row.addStretch(1)
        self.revert_button = QPushButton(objectName="Primary")
        self.revert_button.clicked.connect(self.revert_selected)
        row.addWidget(self.revert_button)
        col.addLayout(row)
        self.tabs.addTab(page, "")

        # 客服
        page = QWidget()
        col = QVBoxLayout(page)
        self.agents_hint = QLabel(objectName="Hint")
        self.agents_hint.setWordWrap(True)
        col.addWidget(self.agents_hint)
        self.agents_table = _table(5)
        header = self.agents_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 5):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.agents_table.itemSelectionChanged.connect(self._update_buttons)
        col.addWidget(self.agents_table, 1)
        row = QHBoxLayout()
        self.agents_refresh = QPushButton()
        self.agents_refresh.clicked.connect(self.load_holders)
        row.addWidget(self.agents_refresh)
        row.addStretch(1)
        self.reset_button = QPushButton()
        self.reset_button.clicked.connect(self.reset_selected)
        row.addWidget(self.reset_button)
        self.disable_button = QPushButton(objectName="Danger")
        self.disable_button.clicked.connect(self.disable_selected)
        row.addWidget(self.disable_button)
        col.addLayout(row)
        self.tabs.addTab(page, "")

        footer = QHBoxLayout()
        self.status = QLabel(objectName="Hint")
        footer.addWidget(self.status, 1)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.accept)
        footer.addWidget(self.close_button)
        layout.addLayout(footer)
        self.tree.itemCollapsed.connect(lambda item: self._collapsed.add(str(item.data(0, Qt.ItemDataRole.UserRole))))
        self.tree.itemExpanded.connect(lambda item: self._collapsed.discard(str(item.data(0, Qt.ItemDataRole.UserRole))))
        self.refresh_timer = QTimer(self, interval=self.REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh_holders)
        self._retranslate()
        self._update_buttons()
        self.load_holders()
        self.load_report()
        self.load_history()

    # ------------------------------------------------------------ language
    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Supervisor", "团队管理"))
        for n, label in enumerate(("跟进情况", "今日", "话术变更", "客服账号")):
            self.tabs.setTabText(n, translate("Supervisor", label))
        self.agents_hint.setText(translate("Supervisor", "停用：对方不再看到任何店铺，跟进的买家回到待接池。"
                                                         "要同时禁止登录，请管理员运行 kefu team disable-agent。"))
        self.agents_table.setHorizontalHeaderLabels([
            translate("Supervisor", "客服"), translate("Supervisor", "账号"), translate("Supervisor", "身份"),
            translate("Supervisor", "状态"), translate("Supervisor", "跟进中")])
        self.agents_refresh.setText(translate("Supervisor", "刷新"))
        self.reset_button.setText(translate("Supervisor", "重置密码…"))
        self.reset_button.setToolTip(translate("Supervisor", "为选中的客服设置新密码（需要 CREATEROLE 权限）"))
        self.disable_button.setText(translate("Supervisor", "停用客服…"))
        self.disable_button.setToolTip(translate("Supervisor", "离职的客服：停用账号，其跟进的买家回到待接池"))
        self.holders_hint.setText(translate("Supervisor", "每位客服正在跟进的买家，以及加星后无人跟进的待接买家。"))
        self.tree.setHeaderLabels([translate("Supervisor", "买家"), translate("Supervisor", "平台 / 店铺"),
                                   translate("Supervisor", "跟进到"), translate("Supervisor", "催单")])
        for button in (self.holders_refresh, self.report_refresh, self.history_refresh):
            button.setText(translate("Supervisor", "刷新"))
        self.reassign_button.setText(translate("Supervisor", "改派…"))
        self.reassign_button.setToolTip(translate("Supervisor", "把选中的买家交给另一位在职客服跟进"))
        self.day_label.setText(translate("Supervisor", "日期"))
        self.report_table.setHorizontalHeaderLabels([
            translate("Supervisor", "客服"), translate("Supervisor", "催单"), translate("Supervisor", "买家数"),
            translate("Supervisor", "撞单"), translate("Supervisor", "接手")])
        self.report_table.horizontalHeaderItem(3).setToolTip(
            translate("Supervisor", "催了别人正在跟进的买家"))
        self.report_table.horizontalHeaderItem(4).setToolTip(
            translate("Supervisor", "通过接手、改派或交班转来的买家"))
        self.report_empty.setText(translate("Supervisor", "这一天没有催单或认领记录"))
        self.history_table.setHorizontalHeaderLabels([
            translate("Supervisor", "时间"), translate("Supervisor", "修改人"), translate("Supervisor", "话术"),
            translate("Supervisor", "版本"), translate("Supervisor", "变更")])
        self.revert_button.setText(translate("Supervisor", "恢复此版本"))
        self.close_button.setText(translate("Supervisor", "关闭"))
        if self.agents or self.buyers:
            self._show_holders()
            self._show_agents()
        if self.reports:
            self._show_report()
        if self.history:
            self._show_history()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "close_button"):
            self._retranslate()
        super().changeEvent(event)

    def showEvent(self, event: QEvent) -> None:
        self.refresh_timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QEvent) -> None:
        self.refresh_timer.stop()  # closed or hidden: no queries nobody sees
        super().hideEvent(event)

    # ------------------------------------------------------------ plumbing
    def _call(self, fn: Callable[[Any], Any], on_done: Callable[[Any], None],
              on_error: Callable[[BaseException], None] | None = None) -> None:
        """team.call with answers that are dropped once the dialog is gone (closed meanwhile)."""
        def done(value: Any) -> None:
            if shiboken6.isValid(self):
                on_done(value)

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                (on_error or self.show_error)(exc)

        self.team.call(fn, done, failed)

    def show_error(self, exc: BaseException) -> None:
        self.error.setText(error_line(exc))
        self.error.show()
        self._update_buttons()

    def _clear_error(self) -> None:
        self.error.hide()
        self.error.clear()

    def _label(self, role: str | None) -> str:
        return supervisor.label(self.agents, role)

    def _update_buttons(self) -> None:
        buyer = self.selected_buyer()
        self.reassign_button.setEnabled(buyer is not None and bool(self.active_agents(buyer)))
        self.revert_button.setEnabled(self.selected_history() is not None)
        agent = self.selected_agent()
        mine = agent is not None and self.me is not None and agent.role == self.me.role
        self.disable_button.setEnabled(agent is not None and agent.active and not mine)
        self.reset_button.setEnabled(agent is not None)

    # ------------------------------------------------------------ 跟进情况
    def load_holders(self) -> None:
        self._clear_error()
        self._holders_loading = True
        self._call(load_holders, self._on_holders, self._holders_failed)

    def refresh_holders(self) -> None:
        """The timer's quiet re-read: an error line the supervisor has not read yet stays, and a
        failure only says so in the footer (the sync thread answers at once when offline)."""
        if self._holders_loading:
            return
        self._holders_loading = True

        def failed(exc: BaseException) -> None:
            self._holders_loading = False
            self.status.setText(translate("Supervisor", "自动刷新失败：{error}").replace("{error}", error_line(exc)))

        self._call(load_holders, self._on_holders, failed)

    def _holders_failed(self, exc: BaseException) -> None:
        self._holders_loading = False
        self.show_error(exc)

    def _on_holders(self, loaded: tuple) -> None:
        self._holders_loading = False
        self.me, self.agents, self.buyers = loaded[0], dict(loaded[1]), list(loaded[2])
        self._show_holders()
        self._show_agents()
        self.loaded.emit("holders")

    def groups(self) -> list[tuple[str, list[supervisor.HeldBuyer]]]:
        """(holder role, buyers) by display name, then (POOL, the starred buyers nobody holds)."""
        by: dict[str, list[supervisor.HeldBuyer]] = {}
        pool = []
        for b in self.buyers:
            (pool if b.holder is None else by.setdefault(b.holder, [])).append(b)
        order = sorted(by, key=lambda r: (self._label(r), r))
        return [(r, by[r]) for r in order] + [(POOL, pool)]

    def _show_holders(self) -> None:
        # by the buyer's id kept on the item: self.buyers may be a new list already
        chosen = self.tree.selectedItems()
        keep = chosen[0].data(0, Qt.ItemDataRole.UserRole + 2) if chosen else None
        scroll = self.tree.verticalScrollBar().value()
        self.tree.blockSignals(True)  # a rebuild is no collapse by the supervisor, nor a new selection
        self.tree.clear()
        for role, buyers in self.groups():
            name = translate("Supervisor", "待接") if role == POOL else self._label(role)
            top = QTreeWidgetItem([translate("Supervisor", "{name}（{n} 位）").replace("{name}", name)
                                   .replace("{n}", str(len(buyers)))])
            top.setData(0, Qt.ItemDataRole.UserRole, role)
            top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for b in buyers:
                child = QTreeWidgetItem([b.nickname, f"{b.platform} / {b.shop}",
                                         when(b.held_until, self.tz) if b.holder else "-", str(b.chases)])
                child.setData(0, Qt.ItemDataRole.UserRole + 1, self.buyers.index(b))
                child.setData(0, Qt.ItemDataRole.UserRole + 2, b.id)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(role not in self._collapsed)
            for j in range(top.childCount()):
                child = top.child(j)
                if keep is not None and child.data(0, Qt.ItemDataRole.UserRole + 2) == keep:
                    child.setSelected(True)
                    self.tree.setCurrentItem(child)
        self.tree.blockSignals(False)
        self.tree.verticalScrollBar().setValue(scroll)
        self.holders_count.setText(translate("Supervisor", "跟进中 {held} 位 · 待接 {pool} 位")
                            .replace("{held}", str(sum(1 for b in self.buyers if b.holder)))
                            .replace("{pool}", str(sum(1 for b in self.buyers if not b.holder))))
        self._update_buttons()

    def selected_buyer(self) -> supervisor.HeldBuyer | None:
        items = self.tree.selectedItems()
        if not items:
            return None
        index = items[0].data(0, Qt.ItemDataRole.UserRole + 1)
        return self.buyers[index] if isinstance(index, int) and index < len(self.buyers) else None

    def active_agents(self, buyer: supervisor.HeldBuyer | None = None) -> list[supervisor.Agent]:
        """Who may receive a buyer: the team's active members but its holder, by name."""
        holder = buyer.holder if buyer is not None else None
        return sorted((a for a in self.agents.values() if a.active and a.role != holder),
                      key=lambda a: (a.label, a.role))

    def _fill_reassign_menu(self) -> None:
        self.reassign_menu.clear()
        buyer = self.selected_buyer()
        if buyer is None:
            return
        for agent in self.active_agents(buyer):
            self.reassign_menu.addAction(agent.label, lambda r=agent.role, b=buyer: self.reassign(b, r))

    def reassign(self, buyer: supervisor.HeldBuyer, to: str) -> None:
        self._clear_error()
        self.reassign_button.setEnabled(False)

        def done(result: supervisor.Reassigned) -> None:
            self.status.setText(translate("Supervisor", "已把 {nick} 改派给 {name}")
                                .replace("{nick}", result.nickname).replace("{name}", self._label(result.new)))
            self.changed.emit("reassign")
            self.load_holders()

        self._call(lambda conn: do_reassign(conn, buyer, to), done)

    # ------------------------------------------------------------ 今日
    def report_day(self) -> date:
        d = self.day.date()
        return date(d.year(), d.month(), d.day())

    def load_report(self) -> None:
        self._clear_error()
        start, end = zones.day_window(self.report_day(), self.tz)
        self._call(lambda conn: load_report(conn, start, end), self._on_report)

    def _on_report(self, loaded: tuple) -> None:
        self.agents.update(loaded[0])
        self.reports = list(loaded[1])
        self._show_report()
        self.loaded.emit("report")

    def _show_report(self) -> None:
        self.report_table.setRowCount(len(self.reports))
        for n, r in enumerate(self.reports):
            values = [self._label(r.role), r.chases, r.buyers, r.collisions, r.received]
            for c, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.report_table.setItem(n, c, item)
        self.report_empty.setVisible(not self.reports)

    # ------------------------------------------------------------ 话术变更
    def load_history(self) -> None:
        self._clear_error()
        self._call(load_history, self._on_history)

    def _on_history(self, loaded: tuple) -> None:
        self.agents.update(loaded[0])
        self.history = list(loaded[1])
        self._show_history()
        self.loaded.emit("history")

    def _show_history(self) -> None:
        self.history_table.setRowCount(len(self.history))
        for n, h in enumerate(self.history):
            title = (h.after or {}).get("title") or (h.before or {}).get("title")
            values = [when(h.changed_at, self.tz), self._label(h.changed_by), clip(title, 18), f"v{h.version}",
                      change_summary(h)]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 4:
                    item.setToolTip(value)
                self.history_table.setItem(n, c, item)
        self._update_buttons()

    def selected_history(self) -> supervisor.HistoryRow | None:
        rows = self.history_table.selectionModel().selectedRows()
        return self.history[rows[0].row()] if rows and rows[0].row() < len(self.history) else None

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, translate("Supervisor", "恢复此版本"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def revert_selected(self) -> None:
        h = self.selected_history()
        if h is None:
            return
        title = (h.after or {}).get("title") or ""
        if not self.confirm(translate("Supervisor", "把“{title}”恢复为第 {v} 版的内容？全店客服同步后都会看到。")
                            .replace("{title}", title).replace("{v}", str(h.version))):
            return
        self.revert(h.reply, h.version)

    def revert(self, reply: str, version: int) -> None:
        self._clear_error()
        self.revert_button.setEnabled(False)

        def done(result: supervisor.Reverted) -> None:
            if result.changed:
                text = translate("Supervisor", "已把“{title}”恢复为第 {v} 版，现为第 {now} 版")
            else:
                text = translate("Supervisor", "“{title}”已是第 {v} 版的内容，未更改")
            self.status.setText(text.replace("{title}", result.title).replace("{v}", str(result.restored))
                                .replace("{now}", str(result.version)))
            self.changed.emit("revert")
            self.load_history()

        self._call(lambda conn: do_revert(conn, reply, version), done)

    # ------------------------------------------------------------ 客服
    def _show_agents(self) -> None:
        selected = self.selected_agent()
        held: dict[str, int] = {}
        for b in self.buyers:
            if b.holder:
                held[b.holder] = held.get(b.holder, 0) + 1
        agents = sorted(self.agents.values(), key=lambda a: (not a.active, a.label, a.role))
        self.agent_rows = agents
        table = self.agents_table
        table.blockSignals(True)
        table.setRowCount(len(agents))
        for n, a in enumerate(agents):
            values = [a.label, a.name,
                      translate("Supervisor", "主管") if a.supervisor else translate("Supervisor", "客服"),
                      translate("Supervisor", "在职") if a.active else translate("Supervisor", "已停用"),
                      str(held.get(a.role, 0))]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c == 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not a.active:
                    item.setForeground(self.palette().placeholderText())
                table.setItem(n, c, item)
            if selected is not None and a.role == selected.role:
                table.selectRow(n)
        table.blockSignals(False)
        self._update_buttons()

    def selected_agent(self) -> supervisor.Agent | None:
        rows = self.agents_table.selectionModel().selectedRows()
        return self.agent_rows[rows[0].row()] if rows and rows[0].row() < len(self.agent_rows) else None

    def confirm_disable(self, text: str) -> bool:
        answer = QMessageBox.question(self, translate("Supervisor", "停用客服"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def disable_selected(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        held = sum(1 for b in self.buyers if b.holder == agent.role)
        text = translate("Supervisor", "停用客服 {name}（{role}）？对方将不再看到任何店铺，正在跟进的 {n} 位买家回到待接池。")
        if not self.confirm_disable(text.replace("{name}", agent.label).replace("{role}", agent.role)
                                    .replace("{n}", str(held))):
            return
        self.disable(agent.role)

    def disable(self, role: str) -> None:
        self._clear_error()
        self.disable_button.setEnabled(False)

        def done(result: tuple[supervisor.Agent, bool, int]) -> None:
            agent, was_active, released = result
            if was_active:
                text = translate("Supervisor", "已停用 {name}：{n} 位买家回到待接池")
            else:
                text = translate("Supervisor", "{name} 本来就已停用；{n} 位买家回到待接池")
            self.status.setText(text.replace("{name}", agent.label).replace("{n}", str(released)))
            self.changed.emit("disable")
            self.load_holders()

        self._call(lambda conn: do_disable(conn, role), done)

    def ask_password(self, agent: supervisor.Agent) -> str | None:
        """The new password typed twice, or None (cancelled)."""
        dialog = PasswordDialog(agent, self)
        return dialog.password() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def reset_selected(self) -> None:
        agent = self.selected_agent()
        if agent is None:
            return
        self._clear_error()
        self.reset_button.setEnabled(False)

        def allowed(target: supervisor.Agent) -> None:
            self._update_buttons()
            password = self.ask_password(target)
            if password:
                self.reset_password(target.role, password)

        self._call(lambda conn: may_reset(conn, agent.role), allowed)

    def reset_password(self, role: str, password: str) -> None:
        self._clear_error()
        self.reset_button.setEnabled(False)

        def done(agent: supervisor.Agent) -> None:
            self._update_buttons()
            self.status.setText(translate("Supervisor", "已重置 {name} 的密码：对方在设置的“团队”页重新连接时使用新密码")
                                .replace("{name}", agent.label))
            self.changed.emit("reset")

        self._call(lambda conn: do_reset(conn, role, password), done)
