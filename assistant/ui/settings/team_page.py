"""The settings dialog's 团队 (Team) page: join a team server, or see the connection and leave it.

What `kefu team connect / status / disconnect` do (assistant/team/connection.py), from the panel.
The page never talks to the server itself: TeamLink (ui/team/link.py) logs in on a thread of its
own, stores on the worker and starts or stops the panel's live sync. Connecting and disconnecting
take effect at once, apart from the dialog's 保存. Errors are one line; nothing is stored half-way.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import shiboken6
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...errors import KnownError
from ...team import connection
from ..team import queries
from ..team.link import TeamLink
from ..team.state import local_time
from ..team.supervisor_dialog import error_line
from ..widgets import style

translate = QCoreApplication.translate
PLACEHOLDER = "postgresql://kefu_shop1_wang@kefu-server.lan:5432/kefu"
FIELDS = (  # the joined view's rows: what `kefu team status` shows
    ("state", QT_TRANSLATE_NOOP("TeamSettings", "状态")),
    ("server", QT_TRANSLATE_NOOP("TeamSettings", "服务器")),
    ("role", QT_TRANSLATE_NOOP("TeamSettings", "账号")),
    ("team", QT_TRANSLATE_NOOP("TeamSettings", "团队")),
    ("shops", QT_TRANSLATE_NOOP("TeamSettings", "店铺")),
    ("last_sync", QT_TRANSLATE_NOOP("TeamSettings", "上次同步")),
    ("outbox", QT_TRANSLATE_NOOP("TeamSettings", "待发送")),
    ("conflicts", QT_TRANSLATE_NOOP("TeamSettings", "冲突")),
    ("claims", QT_TRANSLATE_NOOP("TeamSettings", "跟进中")),
)


def with_ca(url: str, cafile: str) -> str:
    """The URL with the chosen CA file as its sslrootcert; no sslmode in the URL then means
    verify-full (a CA is given to check the server's certificate and name). The URL's own checks
    stay connection.parse_url's."""
    url, cafile = url.strip(), cafile.strip()
    if not cafile:
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["sslrootcert"] = cafile
    query.setdefault("sslmode", "verify-full")
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote, safe="/:")))


class TeamPage(QWidget):
    """Join form, or the joined state with 断开. `changed("connected" | "disconnected")` after each."""

    changed = Signal(str)

    def __init__(self, link: TeamLink, worker: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TeamPage")
        self.link = link
        self.worker = worker
        self.info: queries.Joined | None = None
        self.refused = False  # a disconnect was refused for unsent changes: offer to drop them
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)

        # --- not connected: the join form (one of the two views shows; hidden ones take no room)
        self.join_view = join = QWidget()
        col = QVBoxLayout(join)
        col.setContentsMargins(0, 0, 0, 0)
        self.join_hint = QLabel(objectName="Hint")
        self.join_hint.setWordWrap(True)
        col.addWidget(self.join_hint)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setVerticalSpacing(10)
        self.url = QLineEdit()
        self.url.setPlaceholderText(PLACEHOLDER)
        self.url.setClearButtonEnabled(True)
        self.url_label = QLabel()
        form.addRow(self.url_label, self.url)
        self.ca = QLineEdit()
        self.ca.setClearButtonEnabled(True)
        self.ca_button = QPushButton()
        self.ca_button.clicked.connect(self.choose_ca)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca, 1)
        ca_row.addWidget(self.ca_button)
        self.ca_label = QLabel()
        form.addRow(self.ca_label, ca_row)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.connect_server)
        self.password_label = QLabel()
        form.addRow(self.password_label, self.password)
        col.addLayout(form)
        # below the form, not in it: a wrapped label in a form row is given too little height
        self.ca_hint = QLabel(objectName="Hint")
        self.ca_hint.setWordWrap(True)
        col.addWidget(self.ca_hint)
        row = QHBoxLayout()
        self.connect_button = QPushButton(objectName="Primary")
        self.connect_button.clicked.connect(self.connect_server)
        row.addWidget(self.connect_button)
        self.busy = QLabel(objectName="Hint")
        self.busy.hide()
        row.addWidget(self.busy)
        row.addStretch(1)
        col.addLayout(row)
        layout.addWidget(join)

        # --- connected: what `kefu team status` shows, and 断开
        self.joined_view = joined = QWidget()
        col = QVBoxLayout(joined)
        col.setContentsMargins(0, 0, 0, 0)
        self.fields = QFormLayout()
        self.fields.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.fields.setVerticalSpacing(6)
        self.values: dict[str, QLabel] = {}
        self.labels: dict[str, QLabel] = {}
        for key, _text in FIELDS:
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QLabel()
            self.fields.addRow(label, value)
            self.values[key], self.labels[key] = value, label
        col.addLayout(self.fields)
        self.leave_hint = QLabel(objectName="Hint")
        self.leave_hint.setWordWrap(True)
        col.addWidget(self.leave_hint)
        row = QHBoxLayout()
        self.disconnect_button = QPushButton()
        self.disconnect_button.clicked.connect(lambda: self.disconnect_server(False))
        row.addWidget(self.disconnect_button)
        self.force_button = QPushButton(objectName="Danger")
        self.force_button.clicked.connect(lambda: self.disconnect_server(True))
        self.force_button.hide()
        row.addWidget(self.force_button)
        self.leaving = QLabel(objectName="Hint")
        self.leaving.hide()
        row.addWidget(self.leaving)
        row.addStretch(1)
        col.addLayout(row)
        joined.hide()
        layout.addWidget(joined)

        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.hide()
        layout.addWidget(self.error)
        self.done = QLabel(objectName="FieldOk")
        self.done.setWordWrap(True)
        self.done.hide()
        layout.addWidget(self.done)

        self._retranslate()
        link.state_changed.connect(self._on_state)
        self.reload()

    # ------------------------------------------------------------ language
    def _retranslate(self) -> None:
        self.join_hint.setText(translate("TeamSettings", "加入店铺的团队：填入管理员给你的地址和密码，连接后共享店铺话术和标星买家。"
                                 "不连接时，本机单独工作。"))
        self.url_label.setText(translate("TeamSettings", "服务器地址"))
        self.ca_label.setText(translate("TeamSettings", "CA 证书（可选）"))
        self.ca_button.setText(translate("TeamSettings", "选择…"))
        self.ca_hint.setText(translate("TeamSettings", "CA 证书：店铺的证书文件。选了证书而地址里没写 sslmode 时，会核对服务器的证书和名称（verify-full）。"))
        self.password_label.setText(translate("TeamSettings", "密码"))
        self.connect_button.setText(translate("TeamSettings", "连接"))
        for key, text in FIELDS:
            self.labels[key].setText(translate("TeamSettings", text))
        self.leave_hint.setText(translate("TeamSettings", "断开后，店铺话术留在本机，成为你自己的话术；密码从系统密码库删除，"
                                  "再次连接时需重新输入。"))
        self.disconnect_button.setText(translate("TeamSettings", "断开"))
        self._show()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "done"):
            self._retranslate()
        super().changeEvent(event)

    # ------------------------------------------------------------ showing
    def reload(self) -> None:
        """Re-read what this PC knows of its team (worker)."""
        self.worker.submit(queries.joined, self._on_info, key="settings.team")

    def _on_info(self, info: queries.Joined | None) -> None:
        if shiboken6.isValid(self):
            self.info = info
            self._show()

    def _on_state(self, _state: str, _detail: str) -> None:
        if shiboken6.isValid(self):
            self.reload()  # a round may have moved the outbox, the last sync, the claims

    def state_text(self) -> str:
        state, detail = self.link.state, self.link.detail
        if state == "online":
            return translate("TeamSettings", "● 已同步")
        if state == "syncing":
            return translate("TeamSettings", "● 同步中…")
        if state == "offline":
            reason = self.link.problem_text(detail)
            text = translate("TeamSettings", "● 离线，本机继续工作")
            return f"{text}\n{reason}" if reason else text
        return translate("TeamSettings", "● 未在同步")

    def _show(self) -> None:
        info = self.info
        self.join_view.setHidden(info is not None)
        self.joined_view.setHidden(info is None)
        if info is None:
            return
        kind = translate("TeamSettings", "主管") if info.kind == "supervisor" else translate("TeamSettings", "客服")
        color = {"online": style.OK, "offline": style.TEXT_3}.get(self.link.state, style.ACCENT)
        self.values["state"].setStyleSheet(f"color: {color};")
        values = {
            "state": self.state_text(),
            "server": f"{info.server}  ({info.params})" if info.params else info.server,
            "role": f"{info.role}  ({kind})",
            "team": info.team,
            "shops": "、".join(info.shops) or "-",
            "last_sync": local_time(info.last_sync) or translate("TeamSettings", "从未"),
            "outbox": translate("TeamSettings", "%n 条修改", None, info.outbox_size),
            "conflicts": translate("TeamSettings", "%n 条", None, info.conflicts),
            "claims": translate("TeamSettings", "%n 位买家", None, info.claims),
        }
        for key, text in values.items():
            self.values[key].setText(text)
        # offered after a refusal, while changes still wait (the sync may send them meanwhile)
        self.force_button.setText(translate("TeamSettings", "放弃 %n 条修改并断开", None, info.outbox_size))
        self.force_button.setVisible(self.refused and info.outbox_size > 0)

    def show_error(self, exc: BaseException) -> None:
        if isinstance(exc, connection.PendingChanges):
            text = translate("TeamSettings", "还有 %n 条修改没有发送到团队服务器，未断开。连上服务器后会自动发送，"
                                             "之后再断开；或者放弃这些修改。", None, exc.count)
        else:
            text = error_line(exc)
        self.error.setText(text)
        self.error.show()
        self.done.hide()

    def showing(self) -> str:
        """"join" (the form) or "joined" (the connection and 断开)."""
        return "joined" if self.join_view.isHidden() else "join"

    def _busy(self, busy: bool, text: str = "") -> None:
        for widget in (self.url, self.ca, self.ca_button, self.password, self.connect_button,
                       self.disconnect_button, self.force_button):
            widget.setEnabled(not busy)
        self.busy.setText(text)
        self.busy.setVisible(busy)
        self.leaving.setText(text)
        self.leaving.setVisible(busy and self.info is not None)

    # ------------------------------------------------------------ actions
    def choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, translate("TeamSettings", "选择店铺的 CA 证书"), self.ca.text(),
                                              translate("TeamSettings", "证书 (*.crt *.pem *.cer);;所有文件 (*)"))
        if path:
            self.ca.setText(path)

    def connect_server(self) -> None:
        if self.link.busy or self.info is not None:
            return
        self.error.hide()
        self.done.hide()
        url = with_ca(self.url.text(), self.ca.text())
        password = self.password.text()
        if not url:
            self.show_error(KnownError("请填写团队服务器地址", "enter the team server URL"))
            return
        if not password:
            self.show_error(KnownError("请输入密码", "enter the password"))
            return
        self._busy(True, translate("TeamSettings", "正在连接…"))

        def joined(status: connection.Status) -> None:
            if not shiboken6.isValid(self):
                return
            self._busy(False)
            self.password.clear()
            kind = translate("TeamSettings", "主管") if status.kind == "supervisor" else translate("TeamSettings", "客服")
            self.done.setText(translate("TeamSettings", "已连接团队服务器：{role}（{kind}）。密码保存在系统密码库。")
                              .replace("{role}", status.role).replace("{kind}", kind))
            self.done.show()
            self.changed.emit("connected")
            self.reload()

        def failed(exc: BaseException) -> None:
            if shiboken6.isValid(self):
                self._busy(False)
                self.show_error(exc)

        self.link.connect_server(url, password, joined, failed)

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, translate("TeamSettings", "断开团队服务器"), text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def disconnect_server(self, force: bool) -> None:
        if self.link.busy or self.info is None:
            return
        if not force and not self.confirm(translate("TeamSettings", "断开与团队服务器的连接？店铺话术留在本机，成为你自己的话术；"
                                                                   "密码从系统密码库删除。")):
            return
        self.error.hide()
        self.done.hide()
        self._busy(True, translate("TeamSettings", "正在断开…"))

        def left(_target: Any) -> None:
            if not shiboken6.isValid(self):
                return
            self._busy(False)
            self.refused = False
            self.done.setText(translate("TeamSettings", "已断开团队服务器，密码已从系统密码库删除。"))
            self.done.show()
            self.info = None
            self._show()
            self.changed.emit("disconnected")
            self.reload()

        def failed(exc: BaseException) -> None:
            if not shiboken6.isValid(self):
                return
            self._busy(False)
            self.refused = isinstance(exc, connection.PendingChanges)
            self._show()
            self.show_error(exc)
            self.reload()

        self.link.disconnect_server(force, left, failed)
