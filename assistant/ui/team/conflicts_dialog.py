"""Team sync conflicts: what the server refused or a pull could not apply as it came, shown with
both sides so nothing is silently lost. A stale shop-reply edit is a character diff of "your change"
beside "the server's version"; a short code already taken here and a refused row are notes. Every
action is a job on the StoreWorker; the list follows worker.data_changed like the rest of the panel."""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, outbox
from ...errors import KnownError
from ...services.worker import StoreWorker
from ..widgets import i18n, style
from . import queries

translate = QCoreApplication.translate

DIFF_FIELDS = ("title", "body", "code")
MINE_BG = "#fee2e2"  # what only my version has
THEIRS_BG = "#dcfce7"  # what only the server's version has


def _mark(text: str, colour: str) -> str:
    escaped = html.escape(text).replace("\n", "<br>")
    return f'<span style="background:{colour};">{escaped}</span>' if text else ""


def diff_html(mine: str, theirs: str) -> tuple[str, str]:
    """Both texts as HTML with the characters that differ highlighted (mine: red, theirs: green)."""
    left: list[str] = []
    right: list[str] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_opcodes():
        if op == "equal":
            same = html.escape(mine[a1:a2]).replace("\n", "<br>")
            left.append(same)
            right.append(same)
        else:
            left.append(_mark(mine[a1:a2], MINE_BG))
            right.append(_mark(theirs[b1:b2], THEIRS_BG))
    return "".join(left), "".join(right)


def side_html(mine: dict[str, Any], theirs: dict[str, Any]) -> tuple[str, str]:
    """One conflict's two sides, field by field (a field neither side has is left out)."""
    labels = {"title": translate("Team", "标题"), "body": translate("Team", "内容"), "code": translate("Team", "短码")}
    left: list[str] = []
    right: list[str] = []
    for name in DIFF_FIELDS:
        a, b = str(mine.get(name) or ""), str(theirs.get(name) or "")
        if not a and not b:
            continue
        a_html, b_html = diff_html(a, b)
        head = f'<div style="color:{style.TEXT_3}; font-size:11px; margin-top:4px;">{html.escape(labels[name])}</div>'
        left.append(f"{head}<div>{a_html or '—'}</div>")
        right.append(f"{head}<div>{b_html or '—'}</div>")
    return "".join(left), "".join(right)


def _when(text: Any) -> Any:
    """A conflict's server time as an aware datetime, None when missing or unreadable."""
    try:
        return customers.when(text) if isinstance(text, str) else None
    except ValueError:
        return None


def conflict_title(conflict: outbox.Conflict) -> str:
    side = conflict.mine or conflict.theirs or {}
    return str(side.get("title") or "")


class ConflictCard(QFrame):
    """One conflict: what happened, both sides where there are two, and what can be done."""

    def __init__(self, conflict: outbox.Conflict, act: Callable[[str, int], None], parent: QWidget | None = None,
                 nickname: str | None = None):
        super().__init__(parent)
        self.setObjectName("ConflictCard")
        self.nickname = nickname  # a collision's buyer, when it is known here
        # never squeezed below what its wrapped texts need: the list scrolls instead
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.conflict = conflict
        self._act = act
        self.buttons: dict[str, QPushButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        self.headline = QLabel(objectName="ConflictTitle")
        self.headline.setWordWrap(True)
        layout.addWidget(self.headline)
        self.note = QLabel(objectName="Hint")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.note)
        self.sides: list[QTextBrowser] = []
        self.side_titles: list[QLabel] = []
        if conflict.kind == "stale_edit":
            grid = QGridLayout()
            grid.setHorizontalSpacing(8)
            grid.setVerticalSpacing(3)
            left, right = side_html(conflict.mine or {}, conflict.theirs or {})
            for column, text in enumerate((left, right)):
                title = QLabel(objectName="SectionTitle")
                view = QTextBrowser(objectName="DiffSide")
                view.setOpenLinks(False)
                view.setHtml(f'<div style="font-size:12px; color:{style.TEXT};">{text}</div>')
                view.setMinimumHeight(96)
                view.setMaximumHeight(200)
                grid.addWidget(title, 0, column)
                grid.addWidget(view, 1, column)
                self.side_titles.append(title)
                self.sides.append(view)
            grid.setColumnStretch(0, 1)
            grid.setColumnStretch(1, 1)
            layout.addLayout(grid)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addStretch(1)
        actions = ("reapply", "resolve") if conflict.kind == "stale_edit" else ("resolve",)
        for action in actions:
            button = QPushButton(objectName="Primary" if action == "reapply" else "")
            button.clicked.connect(lambda _=False, a=action: self._act(a, self.conflict.id))
            row.addWidget(button)
            self.buttons[action] = button
        layout.addLayout(row)
        self.retranslate()

    def retranslate(self) -> None:
        c, title = self.conflict, conflict_title(self.conflict)
        theirs = c.theirs or {}
        if c.kind == "stale_edit":
            self.headline.setText(translate("Team", "店铺话术“{title}”在服务器上已被别人修改").replace("{title}", title))
            self.note.setText(translate("Team", "你的修改没有覆盖它。比较两边，选择重新提交你的修改，或保留服务器版本。"))
            self.side_titles[0].setText(translate("Team", "你的修改"))
            self.side_titles[1].setText(translate("Team", "服务器上的版本"))
            self.buttons["reapply"].setText(translate("Team", "用我的再提交"))
            self.buttons["reapply"].setToolTip(translate("Team", "在服务器的新版本上再次提交你的标题、内容和短码"))
            self.buttons["resolve"].setText(translate("Team", "保留服务器版本"))
            return
        if c.kind == "code_taken":
            self.headline.setText(translate("Team", "短码冲突"))
            self.note.setText(translate("Team", "店铺话术“{title}”的短码 {code} 已被你的话术使用，店铺副本暂无短码")
                              .replace("{title}", title).replace("{code}", str(theirs.get("code") or "")))
        elif c.kind == "refused":
            zh, en = theirs.get("reason_zh"), theirs.get("reason")
            reason = str((en if i18n.is_english() else zh) or en or zh or "")
            if (c.mine or {}).get("op") == "aftersales.case":  # an after-sales case's change (售后单 #N)
                number = str((c.mine or {}).get("title") or "").rpartition("#")[2]
                self.headline.setText(translate("Team", "售后单 #{n} 的改动未能同步").replace("{n}", number))
            else:
                self.headline.setText(translate("Team", "店铺话术“{title}”未能应用").replace("{title}", title))
            self.note.setText(translate("Team", "原因：{reason}").replace("{reason}", reason))
        elif c.kind == "collision":
            self.headline.setText(translate("Team", "撞单：{holder} 跟进中的买家被 {chaser} 催单了")
                                  .replace("{holder}", str(theirs.get("holder") or "?"))
                                  .replace("{chaser}", str(theirs.get("chaser") or "?")))
            note = translate("Team", "买家：{nick}").replace("{nick}", self.nickname) if self.nickname else ""
            when = _when(theirs.get("at"))
            if when is not None:
                stamp = when.astimezone().strftime("%m-%d %H:%M")
                note = (note + " · " if note else "") + translate("Team", "催单时间 {time}").replace("{time}", stamp)
            tip = translate("Team", "先和对方确认由谁继续跟进，避免重复催单。")
            self.note.setText(f"{note}\n{tip}" if note else tip)
        else:
            self.headline.setText(translate("Team", "团队同步冲突"))
            self.note.setText(c.kind)
        self.buttons["resolve"].setText(translate("Team", "知道了"))


class ConflictsDialog(QDialog):
    """The open team sync conflicts (outbox.conflicts), one card each."""

    settled = Signal(str, int)  # (action, conflict id) once the store has it

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ConflictsDialog")
        self.worker = worker
        self.cards: list[ConflictCard] = []
        self.loaded = False
        self.setMinimumWidth(520)
        self.resize(620, 600)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        self.intro = QLabel(objectName="Hint")
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.list = QWidget(objectName="ConflictList")
        self.list_layout = QVBoxLayout(self.list)
        self.list_layout.setContentsMargins(0, 0, 0, 0)
        self.list_layout.setSpacing(8)
        self.empty = QLabel(objectName="Hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_layout.addWidget(self.empty)
        self.list_layout.addStretch(1)
        self.scroll.setWidget(self.list)
        layout.addWidget(self.scroll, 1)
        footer = QHBoxLayout()
        footer.addStretch(1)
        self.close_button = QPushButton()
        self.close_button.clicked.connect(self.accept)
        footer.addWidget(self.close_button)
        layout.addLayout(footer)
        self.setStyleSheet(f"#ConflictCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER};"
                           f" border-radius: 8px; }}"
                           f"#ConflictTitle {{ font-weight: 600; }}"
                           f"#DiffSide {{ background: {style.BG}; border: 1px solid {style.BORDER};"
                           f" border-radius: 6px; }}")
        self._retranslate()
        self.worker.data_changed.connect(self.refresh)
        self.refresh()

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Team", "团队同步冲突"))
        self.intro.setText(translate("Team", "这些更改没能按原样同步。两边的内容都保留着，处理后这里的提示会消失。"))
        self.empty.setText(translate("Team", "没有待处理的冲突"))
        self.close_button.setText(translate("Team", "关闭"))
        for card in self.cards:
            card.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "close_button"):
            self._retranslate()
        super().changeEvent(event)

    def refresh(self) -> None:
        def load(store: Any) -> tuple[tuple[outbox.Conflict, ...], dict[int, str]]:
            conflicts = queries.load(store).conflicts
            return conflicts, queries.conflict_buyers(store, conflicts)

        self.worker.submit(load, self._on_conflicts, self._show_error, key=f"team.conflicts-{id(self)}")

    def _on_conflicts(self, loaded: tuple[tuple[outbox.Conflict, ...], dict[int, str]]) -> None:
        conflicts, nicknames = loaded
        # A settled card is hidden, not deleted: it goes with the dialog. (Deleting cards while
        # the worker's answers arrive crashed PySide in the tests; a dialog holds a few cards.)
        ids = {c.id for c in conflicts}
        for card in self.cards:
            if card.conflict.id not in ids:
                card.hide()
        known = {card.conflict.id for card in self.cards}
        for conflict in conflicts:
            if conflict.id not in known:
                buyer_id = (conflict.theirs or {}).get("buyer_id") if conflict.kind == "collision" else None
                card = ConflictCard(conflict, self.act, self.list,
                                    nickname=nicknames.get(buyer_id) if isinstance(buyer_id, int) else None)
                self.list_layout.insertWidget(self.list_layout.count() - 2, card)  # above the empty note
                self.cards.append(card)
        self.cards = [card for card in self.cards if card.conflict.id in ids]
        self.empty.setVisible(not self.cards)
        self.loaded = True

    def act(self, action: str, conflict_id: int) -> None:
        """reapply: make my stale edit again on the server's version; resolve: settle it as it is."""
        self.error.hide()
        fn = queries.reapply_mine if action == "reapply" else queries.resolve
        for card in self.cards:
            if card.conflict.id == conflict_id:
                for button in card.buttons.values():
                    button.setEnabled(False)
        self.worker.submit(lambda store: fn(store, conflict_id), lambda _: self.settled.emit(action, conflict_id),
                           self._on_act_error, write=True)

    def _on_act_error(self, exc: KnownError) -> None:
        self._show_error(exc)
        for card in self.cards:
            for button in card.buttons.values():
                button.setEnabled(True)

    def _show_error(self, exc: KnownError) -> None:
        self.error.setText(exc.message("en" if i18n.is_english() else "zh"))
        self.error.show()
