"""The team state line at the foot of the panel and the conflicts notice above the tabs' pages.

The sync service (written elsewhere) says what state the connection is in through
Panel.set_team_state; what the line says beyond that (outbox size, last sync) comes from a
TeamView read on the worker."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

from ...core.clock import from_db
from ..widgets import icons, style
from .queries import NO_TEAM, TeamView

translate = QCoreApplication.translate

STATES = ("", "online", "syncing", "offline")
DOT = {"online": style.OK, "syncing": style.ACCENT, "offline": style.TEXT_3}


def local_time(text: str | None) -> str:
    """A store timestamp as the agent's local date and time (today: just the time)."""
    when = from_db(text)
    if when is None:
        return ""
    local = when.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%Y-%m-%d %H:%M")


class TeamStateLabel(QLabel):
    """"团队：已同步" / "团队：同步中…" / "离线 · 本机继续工作": hidden without a team."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TeamState")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.state = ""
        self.detail = ""
        self.view: TeamView = NO_TEAM
        self.hide()

    def set_state(self, state: str, detail: str = "") -> None:
        if state not in STATES:
            raise ValueError(f"unknown team state {state!r}; one of {STATES}")
        self.state, self.detail = state, detail or ""
        self._refresh()

    def set_view(self, view: TeamView) -> None:
        self.view = view
        self._refresh()

    def plain_text(self) -> str:
        return {"online": translate("Team", "团队：已同步"), "syncing": translate("Team", "团队：同步中…"),
                "offline": translate("Team", "离线 · 本机继续工作")}.get(self.state, "")

    def _refresh(self) -> None:
        if not self.state:
            self.hide()
            self.setText("")
            self.setToolTip("")
            return
        dot = f'<span style="color:{DOT[self.state]};">●</span>'
        self.setText(f'{dot} <span style="color:{style.TEXT_3};">{self.plain_text()}</span>')
        lines: list[str] = []
        when = local_time(self.view.last_sync)
        if self.state == "offline":
            lines.append(translate("Team", "连不上团队服务器。你的更改保存在本机，服务器恢复后自动发送。"))
        elif self.state == "syncing":
            lines.append(translate("Team", "正在与团队服务器同步"))
        if when:
            lines.append(translate("Team", "上次同步：{time}").replace("{time}", when))
        elif self.state == "online":
            lines.append(translate("Team", "已连接团队服务器"))
        if self.view.outbox_size or self.state == "offline":
            lines.append(translate("Team", "待发送 %n 条更改", None, self.view.outbox_size))
        if self.detail:
            lines.append(self.detail)
        self.setToolTip("\n".join(lines))
        self.show()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._refresh()
        super().changeEvent(event)


class ConflictsNotice(QPushButton):
    """"有 N 条团队同步冲突": a quiet, non-modal strip; a click opens the conflicts dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TeamNotice")
        self.setIcon(icons.icon("warning", style.WARN))
        self.setIconSize(QSize(14, 14))
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setStyleSheet(f"QPushButton#TeamNotice {{ background: {style.WARN_BG}; border: 1px solid #fde68a;"
                           f" color: {style.WARN}; border-radius: 8px; padding: 4px 10px; text-align: left; }}"
                           f"QPushButton#TeamNotice:hover {{ border-color: {style.WARN}; }}")
        self.count = 0
        self.hide()

    def set_count(self, count: int) -> None:
        self.count = int(count)
        self._refresh()

    def _refresh(self) -> None:
        self.setText(translate("Team", "有 %n 条团队同步冲突", None, self.count))
        self.setToolTip(translate("Team", "点击查看并处理"))
        self.setVisible(self.count > 0)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._refresh()
        super().changeEvent(event)
