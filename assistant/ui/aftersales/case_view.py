"""One after-sales case in the panel: the agent works it while talking to the buyer.

From the top: the header (buyer, masked order, category, severity, wanted outcome, mood — the mood
changes in one click —, status), the four calming steps as a checklist (the current step shows its
hint and the library's scripts: a click pastes one into the chat window through the paste flow, like
the quick-replies list; Alt+1…9 paste the n-th script shown), the retention ladder's proposed rung with
its scripts and the agent's limit, 提出方案 (an offer above the limit is not made: the reason shows and
the case goes to 待主管 with a summary to copy to the supervisor's QQ/WeChat group), the supervisor's
decision (where this PC may record it: core/aftersales.may_decide), the warehouse, follow-up
(promised call-back, 已跟进), resolve / close / reopen, and the history with a note line.

Every read and write is a StoreWorker job; one keyed job reads the whole case (CaseData). Buttons take
no keyboard focus, so a click never leaves the caret in the panel while the agent types in the chat.
"""

from __future__ import annotations

import contextlib
import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import aftersales as af
from ...core import customers, reminders, templates, zones
from ...core.clock import Clock, SystemClock
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from ..widgets import i18n, icons, style
from .case_form import SEVERITY_HINTS, pick, segmented

translate = QCoreApplication.translate

STATUS_COLOURS = {"new": (style.ACCENT, style.ACCENT_SOFT), "calming": (style.WARN, style.WARN_BG),
                  "proposed": (style.ACCENT, style.ACCENT_SOFT), "warehouse": ("#7c3aed", "#f5f3ff"),
                  "manager": (style.ERROR, style.ERROR_BG), "resolved": (style.OK, style.OK_BG),
                  "closed": (style.TEXT_2, "#f1f5f9")}
CALLBACK_MINUTES = (30, 60, 120)

CSS = f"""
#CaseBody, #CaseForm {{ background: {style.BG}; }}
QScrollArea#CaseScroll {{ background: transparent; border: none; }}
#CaseCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER}; border-radius: 8px; }}
#CaseTitle {{ font-size: 15px; font-weight: 600; }}
#CardMeta {{ color: {style.TEXT_2}; font-size: 12px; }}
#Problem {{ background: {style.BG}; border: 1px solid {style.BORDER}; border-radius: 6px; padding: 5px 6px;
    font-size: 13px; }}
#StatusPill {{ border-radius: 9px; padding: 1px 8px; font-size: 11px; font-weight: 600; }}
#Step {{ border-radius: 6px; }}
#Step[current="true"] {{ background: {style.ACCENT_SOFT}; border: 1px solid #bfdbfe; }}
#StepTitle {{ font-size: 13px; }}
#StepTitle[done="true"] {{ color: {style.TEXT_3}; }}
#StepTitle[current="true"] {{ color: {style.ACCENT}; font-weight: 600; }}
QPushButton#Script {{ text-align: left; padding: 4px 8px; background: {style.SURFACE}; font-size: 12px; }}
QPushButton#Script:hover {{ border-color: {style.ACCENT}; background: {style.ACCENT_SOFT}; }}
#Blocked {{ background: {style.ERROR_BG}; border: 1px solid #fecaca; border-radius: 6px; }}
#Blocked QLabel {{ color: {style.ERROR}; font-size: 12px; background: transparent; }}
#Note {{ color: {style.WARN}; background: {style.WARN_BG}; border: 1px solid #fde68a; border-radius: 6px;
    padding: 3px 6px; font-size: 12px; }}
#HistoryLine {{ color: {style.TEXT_2}; font-size: 12px; }}
QPushButton#Seg {{ border-radius: 0; padding: 2px 10px; min-height: 16px; font-size: 12px; color: {style.TEXT_2}; }}
QPushButton#Seg[pos="first"] {{ border-top-left-radius: 6px; border-bottom-left-radius: 6px; }}
QPushButton#Seg[pos="last"] {{ border-top-right-radius: 6px; border-bottom-right-radius: 6px; border-left: none; }}
QPushButton#Seg:checked {{ background: {style.ACCENT_SOFT}; color: {style.ACCENT}; border-color: #bfdbfe; font-weight: 600; }}
#LinkButton {{ border: none; background: transparent; color: {style.ACCENT}; padding: 0; font-size: 12px; min-height: 0; }}
"""


# ================================================================ data (worker thread)

@dataclass
class CaseData:
    case: af.Case
    steps: list[af.StepItem]
    proposal: af.Proposal | None
    history: list[af.Event]
    followups: list[reminders.DueReminder]
    may_decide: bool
    agent: str
    tz: tzinfo
    summary: str | None  # the escalation text while the case waits for the supervisor
    supervisor: bool = False  # team mode, a supervisor's login: they decide under their own name
    categories: list[af.Category] = field(default_factory=list)  # the case's shop's, for the category box


def load_case(store: Any, case_id: int) -> CaseData:
    case = af.get_case(store, case_id)
    return CaseData(case, af.checklist(store, case.id), af.proposal(store, case.id) if case.open else None,
                    af.history(store, case.id), af.followups(store, case.id), af.may_decide(store),
                    af.current_agent(store), reminders.get_config(store).agent_tz,
                    af.summary_text(store, case) if case.status == "manager" else None,
                    bool(customers.team_role(store)) and af.may_decide(store),
                    af.list_categories(store, case.shop))


# ================================================================ small widgets

def card(title_widget: QLabel | None = None) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame(objectName="CaseCard")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 8, 10, 8)
    layout.setSpacing(5)
    if title_widget is not None:
        layout.addWidget(title_widget)
    return frame, layout


def button(primary: bool = False, danger: bool = False, icon: str | None = None) -> QPushButton:
    b = QPushButton(objectName="Primary" if primary else "Danger" if danger else "")
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click keeps the caret where the agent types
    b.setAutoDefault(False)
    if icon:
        b.setIcon(icons.icon(icon, "#ffffff" if primary else style.ICON))
        b.setIconSize(QSize(14, 14))
    return b


def wrapped(name: str = "CardMeta", rich: bool = False) -> QLabel:
    label = QLabel(objectName=name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # wrap, never widen the panel
    return label


def repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def clear(layout: Any) -> None:
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget()
        if w is not None:
            w.hide()
            w.deleteLater()
        elif item.layout() is not None:
            clear(item.layout())


def money_text(fen: int | None) -> str:
    return "" if fen is None else f"¥{af.yuan(fen)}"


class ScriptButton(QPushButton):
    """A proposed script: its number (Alt+n), title and first line; the tooltip shows it filled in."""

    def __init__(self, n: int, script: af.ScriptRef, values: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Script")
        self.script = script
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setAutoDefault(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        body = templates.render(script.body, values).text
        self._text = f"{n}. {script.title or script.code or script.reply_id}"
        self._first = body.splitlines()[0] if body else ""
        self.setToolTip(body)
        self.setText(self._text)

    def resizeEvent(self, event) -> None:  # noqa: ANN001 - the title and first line, elided to the width
        super().resizeEvent(event)
        metrics = self.fontMetrics()
        full = f"{self._text}  ·  {self._first}" if self._first else self._text
        self.setText(metrics.elidedText(full, Qt.TextElideMode.ElideRight, max(40, self.width() - 20)))


# ================================================================ the case view

class CaseView(QWidget):
    """One case; show(case_id) reads it, every action writes through the worker and reads it again."""

    #: paste this library reply into the chat window (reply id, fill-in values): the paste flow's paste_reply
    paste_requested = Signal(int, dict)
    #: back to the list of cases
    back_requested = Signal()
    #: a new case for the same buyer (buyer id)
    new_case_requested = Signal(int)
    #: the case was read and shown (tests wait for it)
    loaded = Signal(object)

    def __init__(self, worker: StoreWorker, messages: MessageBridge, clock: Clock | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CaseView")
        self.worker = worker
        self.messages = messages
        self.clock: Clock = clock or SystemClock()
        self.case_id: int | None = None
        self.data: CaseData | None = None
        self.paste_available = False
        self.scripts: list[ScriptButton] = []
        self.advance_button: QPushButton | None = None
        self.last_summary: tuple[int, str, str] | None = None  # (case, reason, summary) of the last escalation
        self._build()
        worker.data_changed.connect(self._on_data_changed)
        self._retranslate()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        top = QHBoxLayout()
        top.setSpacing(4)
        top.setContentsMargins(0, 2, 2, 0)
        self.back_button = QToolButton()
        self.back_button.setIcon(icons.icon("chevron-right", style.ICON))
        self.back_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.back_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.back_button.clicked.connect(self.back_requested.emit)
        self.title = QLabel(objectName="CaseTitle")
        self.status_pill = QLabel(objectName="StatusPill")
        top.addWidget(self.back_button)
        top.addWidget(self.title, 1)
        top.addWidget(self.status_pill)
        outer.addLayout(top)
        self.scroll = QScrollArea(objectName="CaseScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.scroll, 1)
        body = QWidget(objectName="CaseBody")
        self.scroll.setWidget(body)
        col = QVBoxLayout(body)
        col.setContentsMargins(0, 0, 4, 8)
        col.setSpacing(6)

        # --- header
        head, hl = card()
        self.buyer_label = wrapped("CardTitle", rich=True)
        hl.addWidget(self.buyer_label)
        self.order_row = QHBoxLayout()
        self.order_label = wrapped()
        self.reveal_button = QPushButton(objectName="LinkButton")
        self.reveal_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.reveal_button.setFlat(True)
        self.reveal_button.clicked.connect(self.reveal_order)
        self.order_row.addWidget(self.order_label, 1)
        self.order_row.addWidget(self.reveal_button)
        hl.addLayout(self.order_row)
        self.problem = wrapped("Problem")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        hl.addWidget(self.problem)
        self.facts = wrapped(rich=True)
        hl.addWidget(self.facts)
        mood_row, self.mood_group, self.mood_buttons = segmented(list(af.MOODS), self)
        for code, b in self.mood_buttons.items():
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, m=code: self.set_mood(m))
        self.mood_title = QLabel(objectName="Hint")
        mood_row.insertWidget(0, self.mood_title)
        hl.addLayout(mood_row)
        # what the agent learns while listening changes the severity, and with it the ladder's rung
        severity_row, self.severity_group, self.severity_buttons = segmented(list(af.SEVERITIES), self)
        for code, b in self.severity_buttons.items():
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, v=code: self.set_severity(v))
        self.severity_title = QLabel(objectName="Hint")
        severity_row.insertWidget(0, self.severity_title)
        hl.addLayout(severity_row)
        # what the buyer wants and what went wrong are often clear only after they have vented
        wanted_row = QHBoxLayout()
        wanted_row.setSpacing(4)
        self.wanted_title = QLabel(objectName="Hint")
        self.wanted_combo = QComboBox()
        for code in af.WANTED:
            self.wanted_combo.addItem("", code)
        self.wanted_combo.activated.connect(lambda _i: self.set_wanted(self.wanted_combo.currentData()))
        self.category_combo = QComboBox()
        self.category_combo.activated.connect(
            lambda _i: self.set_category(self.category_combo.currentData(), self.category_combo.currentText()))
        for combo in (self.wanted_combo, self.category_combo):
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the chat client keeps the keyboard
        wanted_row.addWidget(self.wanted_title)
        wanted_row.addWidget(self.wanted_combo, 1)
        wanted_row.addWidget(self.category_combo, 1)
        hl.addLayout(wanted_row)

        self.outcome_label = wrapped()
        hl.addWidget(self.outcome_label)
        col.addWidget(head)

        # --- the four steps
        self.steps_title = QLabel(objectName="SectionTitle")
        steps, sl = card(self.steps_title)
        self.steps_box = QVBoxLayout()
        self.steps_box.setSpacing(3)
        sl.addLayout(self.steps_box)
        self.steps_error = self._error_label(sl)
        col.addWidget(steps)

        # --- the ladder and the offer
        self.ladder_title = QLabel(objectName="SectionTitle")
        self.ladder_card, ll = card(self.ladder_title)
        self.ladder_meta = wrapped(rich=True)
        ll.addWidget(self.ladder_meta)
        self.notes_box = QVBoxLayout()
        self.notes_box.setSpacing(3)
        ll.addLayout(self.notes_box)
        self.ladder_scripts = QVBoxLayout()
        self.ladder_scripts.setSpacing(3)
        ll.addLayout(self.ladder_scripts)
        offer_row = QHBoxLayout()
        offer_row.setSpacing(4)
        self.offer = QComboBox()
        self.offer.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.offer.currentIndexChanged.connect(self._offer_changed)
        self.amount = QLineEdit()
        self.amount.setMaximumWidth(96)
        self.amount.returnPressed.connect(self.make_offer)
        self.offer_button = button(primary=True)
        self.offer_button.clicked.connect(self.make_offer)
        offer_row.addWidget(self.offer, 2)
        offer_row.addWidget(self.amount, 1)
        offer_row.addWidget(self.offer_button, 0)
        ll.addLayout(offer_row)
        reason_row = QHBoxLayout()
        reason_row.setSpacing(4)
        self.offer_note = QLineEdit()
        self.offer_note.setMaxLength(200)
        self.escalate_button = button()
        self.escalate_button.clicked.connect(self.escalate)
        reason_row.addWidget(self.offer_note, 1)
        reason_row.addWidget(self.escalate_button)
        ll.addLayout(reason_row)
        self.offer_error = self._error_label(ll)
        # blocked / escalated: the reason and the summary to copy to the supervisor
        self.blocked = QFrame(objectName="Blocked")
        bl = QVBoxLayout(self.blocked)
        bl.setContentsMargins(8, 6, 8, 6)
        bl.setSpacing(4)
        self.blocked_reason = wrapped("")
        bl.addWidget(self.blocked_reason)
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.summary.setFixedHeight(96)
        bl.addWidget(self.summary)
        self.copy_button = button(primary=True, icon="copy")
        self.copy_button.clicked.connect(self.copy_summary)
        bl.addWidget(self.copy_button)
        self.blocked.hide()
        col.addWidget(self.ladder_card)

        # --- the supervisor's decision (待主管)
        self.decision_title = QLabel(objectName="SectionTitle")
        self.decision_card, dl = card(self.decision_title)
        self.decision_hint = wrapped("Hint")
        dl.addWidget(self.decision_hint)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.decider = QLineEdit()
        self.decider.setMaxLength(64)
        self.decision_note = QLineEdit()
        self.decision_note.setMaxLength(200)
        row.addWidget(self.decider, 1)
        row.addWidget(self.decision_note, 2)
        dl.addLayout(row)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.approve_button = button(primary=True)
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.decline_button = button(danger=True)
        self.decline_button.clicked.connect(lambda: self.decide(False))
        row.addWidget(self.approve_button, 1)
        row.addWidget(self.decline_button, 1)
        dl.addLayout(row)
        self.decision_error = self._error_label(dl)
        self.decision_label = wrapped()
        dl.addWidget(self.decision_label)

        # --- warehouse
        self.warehouse_title = QLabel(objectName="SectionTitle")
        self.warehouse_card, wl = card(self.warehouse_title)
        self.findings_label = wrapped()
        wl.addWidget(self.findings_label)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.findings = QLineEdit()
        self.findings.setMaxLength(af.MAX_TEXT)
        self.findings.returnPressed.connect(self.record_findings)
        self.findings_by = QLineEdit()
        self.findings_by.setMaxLength(64)
        self.findings_by.setMaximumWidth(90)
        row.addWidget(self.findings, 1)
        row.addWidget(self.findings_by)
        wl.addLayout(row)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.check_button = button()
        self.check_button.clicked.connect(self.check_warehouse)
        self.findings_button = button()
        self.findings_button.clicked.connect(self.record_findings)
        row.addWidget(self.check_button, 1)
        row.addWidget(self.findings_button, 1)
        wl.addLayout(row)
        self.warehouse_error = self._error_label(wl)
        col.addWidget(self.warehouse_card)

        # --- follow-up: promised call-back, 已跟进
        self.follow_title = QLabel(objectName="SectionTitle")
        self.follow_card, fl = card(self.follow_title)
        self.follow_label = wrapped()
        fl.addWidget(self.follow_label)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.callback_title = QLabel(objectName="Hint")
        row.addWidget(self.callback_title)
        self.callback_buttons: dict[int, QPushButton] = {}
        for minutes in CALLBACK_MINUTES:
            b = button()
            b.clicked.connect(lambda _c=False, m=minutes: self.promise_in(m))
            self.callback_buttons[minutes] = b
            row.addWidget(b, 1)
        fl.addLayout(row)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.callback_at = QLineEdit()
        self.callback_at.setMaxLength(16)
        self.callback_at.setMaximumWidth(110)
        self.callback_at.returnPressed.connect(self.promise_at)
        self.callback_button = button()
        self.callback_button.clicked.connect(self.promise_at)
        self.followed_button = button(icon="check")
        self.followed_button.clicked.connect(self.followed_up)
        row.addWidget(self.callback_at)
        row.addWidget(self.callback_button)
        row.addStretch(1)
        row.addWidget(self.followed_button)
        fl.addLayout(row)
        self.follow_error = self._error_label(fl)
        col.addWidget(self.follow_card)

        # --- resolve / close / reopen
        self.end_title = QLabel(objectName="SectionTitle")
        self.end_card, el = card(self.end_title)
        self.resolve_row = QWidget()
        row = QHBoxLayout(self.resolve_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.outcome = QComboBox()
        self.outcome.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.outcome.currentIndexChanged.connect(self._outcome_changed)
        self.outcome_amount = QLineEdit()
        self.outcome_amount.setMaximumWidth(96)
        self.resolve_button = button(primary=True, icon="check")
        self.resolve_button.clicked.connect(self.resolve)
        row.addWidget(self.outcome, 2)
        row.addWidget(self.outcome_amount, 1)
        row.addWidget(self.resolve_button)
        el.addWidget(self.resolve_row)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.end_note = QLineEdit()
        self.end_note.setMaxLength(200)
        self.close_button = button(danger=True)
        self.close_button.clicked.connect(self.close_case)
        self.reopen_button = button()
        self.reopen_button.clicked.connect(self.reopen)
        row.addWidget(self.end_note, 1)
        row.addWidget(self.close_button)
        row.addWidget(self.reopen_button)
        el.addLayout(row)
        self.end_error = self._error_label(el)
        col.addWidget(self.end_card)

        # --- history
        self.history_title = QLabel(objectName="SectionTitle")
        hist, hl2 = card(self.history_title)
        self.history_box = QVBoxLayout()
        self.history_box.setSpacing(2)
        hl2.addLayout(self.history_box)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.note = QLineEdit()
        self.note.setMaxLength(af.MAX_TEXT)
        self.note.returnPressed.connect(self.add_note)
        self.note_button = button()
        self.note_button.clicked.connect(self.add_note)
        row.addWidget(self.note, 1)
        row.addWidget(self.note_button)
        hl2.addLayout(row)
        self.note_error = self._error_label(hl2)
        self.new_case_button = button()
        self.new_case_button.clicked.connect(
            lambda: self.data is not None and self.new_case_requested.emit(self.data.case.buyer_id))
        hl2.addWidget(self.new_case_button, 0, Qt.AlignmentFlag.AlignRight)
        col.addWidget(hist)
        col.addStretch(1)
        # While the case waits for the supervisor, what to send them and their answer come first.
        col.insertWidget(1, self.blocked)
        col.insertWidget(2, self.decision_card)

        for n in range(1, 10):
            shortcut = QShortcut(QKeySequence(f"Alt+{n}"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=n: self.paste_script(n))
        back = QShortcut(QKeySequence("Esc"), self)
        back.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        back.activated.connect(self.back_requested.emit)

    def _error_label(self, layout: QVBoxLayout) -> QLabel:
        label = wrapped("FieldError")
        label.hide()
        layout.addWidget(label)
        return label

    # ------------------------------------------------------------ reading

    def show_case(self, case_id: int) -> None:
        if case_id != self.case_id:
            self.data = None
            self.case_id = case_id
            for line in (self.offer_note, self.amount, self.findings, self.findings_by, self.note, self.end_note,
                         self.decision_note, self.callback_at, self.outcome_amount):
                line.clear()
            self.blocked.hide()
            self.scroll.verticalScrollBar().setValue(0)
        self._errors_off()
        self.reload()

    def reload(self) -> None:
        cid = self.case_id
        if cid is None:
            return
        self.worker.submit(lambda store: load_case(store, cid), self._on_loaded, self._on_load_error,
                           key="aftersales.case")

    def _on_data_changed(self) -> None:
        if self.case_id is not None and self.isVisible():
            self.reload()

    def showEvent(self, event) -> None:  # noqa: ANN001 - back on the tab: what changed meanwhile (a reminder's 已跟进)
        super().showEvent(event)
        if self.case_id is not None:
            self.reload()

    def _on_load_error(self, exc: KnownError) -> None:
        self.messages.post(exc.zh, exc.en, "warning")

    def _on_loaded(self, data: CaseData) -> None:
        if data.case.id != self.case_id:
            return
        if data == self.data:  # an unrelated write (a paste's usage record): nothing to rebuild (~50 ms)
            return
        self.data = data
        bar = self.scroll.verticalScrollBar()
        keep = bar.value()
        self._render()
        bar.setValue(keep)  # the rebuilt steps and history must not move what the agent is looking at
        self.loaded.emit(data)

    # ------------------------------------------------------------ showing

    def _values(self) -> dict[str, str]:
        case = self.data.case if self.data else None
        if case is None:
            return {}
        values = {"客户": case.nickname}
        if case.product:
            values["商品"] = case.product
        amount = self.amount.text().strip()
        if amount:  # the compensation being offered fills the ladder scripts' {金额}
            with contextlib.suppress(KnownError):  # not a sum yet: the paste flow asks for it
                values["金额"] = af.yuan(af.money(amount)).removesuffix(".00")
        return values

    def _render(self) -> None:
        data = self.data
        if data is None:
            return
        case = data.case
        names = {"status": pick(af.STATUSES, case.status), "severity": pick(af.SEVERITIES, case.severity),
                 "wanted": pick(af.WANTED, case.wanted), "outcome": pick(af.OUTCOMES, case.outcome)}
        self.title.setText(translate("Aftersales", "售后单 {ref}").replace("{ref}", case.ref))
        fg, bg = STATUS_COLOURS.get(case.status, (style.TEXT_2, "#f1f5f9"))
        self.status_pill.setText(names["status"])
        self.status_pill.setStyleSheet(f"color: {fg}; background: {bg};")
        from ..reminders.reminders import platform_name

        self.buyer_label.setText(f"<b>{html.escape(case.nickname)}</b> <span style='color:{style.TEXT_3};"
                                 f" font-weight:400;'>{html.escape(platform_name(case.platform))}"
                                 f"{(' · ' + html.escape(case.shop)) if case.shop else ''}</span>")
        order = case.order_masked or "—"
        self.order_label.setText(translate("Aftersales", "订单 {order}").replace("{order}", order) +
                                 (("  ·  " + translate("Aftersales", "商品 {product}").replace("{product}", case.product))
                                  if case.product else ""))
        self.reveal_button.setVisible(bool(case.order_masked) and "*" in case.order_masked)
        self.problem.setText(case.problem)
        # the category and the wanted outcome are in their boxes below; the buyer's feelings here
        self.facts.setText(f"<span style='color:{style.TEXT_3};'>{html.escape(case.feelings)}</span>"
                           if case.feelings else "")
        self.facts.setVisible(bool(case.feelings))
        self.wanted_combo.setCurrentIndex(max(0, self.wanted_combo.findData(case.wanted)))
        self.category_combo.blockSignals(True)
        self.category_combo.clear()
        for cat in data.categories or []:
            self.category_combo.addItem(cat.name, cat.id)
        if self.category_combo.findText(case.category) < 0:
            self.category_combo.addItem(case.category, case.category)
        self.category_combo.setCurrentIndex(self.category_combo.findText(case.category))
        self.category_combo.blockSignals(False)
        for combo in (self.wanted_combo, self.category_combo):
            combo.setEnabled(case.open)
        for code, b in self.mood_buttons.items():
            b.setChecked(case.mood == code)
            b.setEnabled(case.open)
        for code, b in self.severity_buttons.items():
            b.setChecked(case.severity == code)
            b.setEnabled(case.open)
        outcome = names["outcome"] + (f" {money_text(case.outcome_amount)}" if case.outcome_amount is not None else "")
        self.outcome_label.setText(translate("Aftersales", "结果：{outcome}").replace("{outcome}", outcome)
                                   if case.outcome else "")
        self.outcome_label.setVisible(bool(case.outcome))
        self._render_steps(data)
        self._render_ladder(data)
        self._render_decision(data)
        self._render_warehouse(data)
        self._render_follow(data)
        self._render_end(data)
        self._render_history(data)

    def _render_steps(self, data: CaseData) -> None:
        clear(self.steps_box)
        self.scripts = []
        self.advance_button = None
        values = self._values()
        for item in data.steps:
            box = QFrame(objectName="Step")
            box.setProperty("current", item.current)
            lay = QVBoxLayout(box)
            lay.setContentsMargins(6, 4, 6, 4)
            lay.setSpacing(3)
            head = QHBoxLayout()
            head.setSpacing(6)
            mark = QLabel()
            mark.setFixedWidth(16)
            if item.done:
                mark.setPixmap(icons.pixmap("check", 14, style.OK))
            else:
                mark.setText(str(item.step))
                mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title = QLabel(i18n.pick(item.zh, item.en), objectName="StepTitle")
            title.setProperty("done", item.done)
            title.setProperty("current", item.current)
            title.setWordWrap(True)
            title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            head.addWidget(mark)
            head.addWidget(title, 1)
            if item.current and item.step < af.STEP_COUNT:
                done = button(icon="check")
                done.setText(translate("Aftersales", "完成这一步"))
                done.setToolTip(translate("Aftersales", "这一步做完了：进入下一步"))
                done.clicked.connect(self.advance)
                self.advance_button = done
                head.addWidget(done)
            lay.addLayout(head)
            if item.current:
                hint = wrapped("Hint")
                hint.setText(i18n.pick(item.hint_zh, item.hint_en))
                lay.addWidget(hint)
                for script in item.scripts:
                    b = ScriptButton(len(self.scripts) + 1, script, values)
                    b.clicked.connect(lambda _c=False, s=script: self.paste(s))
                    self.scripts.append(b)
                    lay.addWidget(b)
                if item.step == af.STEP_COUNT:
                    hint2 = wrapped("Hint")
                    hint2.setText(translate("Aftersales", "解决后在下面“结案”选择结果，跟进到买家满意为止。"))
                    lay.addWidget(hint2)
            self.steps_box.addWidget(box)

    def _render_ladder(self, data: CaseData) -> None:
        p = data.proposal
        self.ladder_card.setVisible(p is not None)
        clear(self.notes_box)
        clear(self.ladder_scripts)
        if p is None:  # a closed case: no ladder, no escalation banner
            self.blocked.hide()
            return
        lang_en = i18n.is_english()
        allowed = "、".join(pick(af.OFFERS, o) for o in p.allowed) if not lang_en else \
            ", ".join(pick(af.OFFERS, o) for o in p.allowed)
        self.ladder_title.setText(translate("Aftersales", "挽单建议：{rung}").replace("{rung}", i18n.pick(p.zh, p.en)))
        self.ladder_meta.setText(
            html.escape(translate("Aftersales", "我的权限：{limit}").replace("{limit}", p.limit.describe(
                "en" if lang_en else "zh"))) + "<br>" +
            html.escape(translate("Aftersales", "可直接提出：{offers}").replace(
                "{offers}", allowed or translate("Aftersales", "无，需要主管决定"))))
        for zh, en in p.notes:
            label = wrapped("Note")
            label.setText(i18n.pick(zh, en))
            self.notes_box.addWidget(label)
        values = self._values()
        for script in p.scripts:
            b = ScriptButton(len(self.scripts) + 1, script, values)
            b.clicked.connect(lambda _c=False, s=script: self.paste(s))
            self.scripts.append(b)
            self.ladder_scripts.addWidget(b)
        keep = self.offer.currentData()
        self.offer.blockSignals(True)
        self.offer.clear()
        for code in af.LADDER:
            mark = "" if code in p.offers else " ↓"  # beyond the rung the severity calls for
            self.offer.addItem(pick(af.OFFERS, code) + mark, code)
        default = keep if keep in af.OFFERS else (p.allowed[0] if p.allowed else p.offers[0])
        self.offer.setCurrentIndex(max(0, self.offer.findData(default)))
        self.offer.blockSignals(False)
        self._offer_changed()
        waiting = data.case.status == "manager"
        for w in (self.offer, self.amount, self.offer_button, self.escalate_button):
            w.setEnabled(not waiting)
        summary = data.summary
        last = self.last_summary
        if waiting:
            reason = last[1] if last and last[0] == data.case.id else translate("Aftersales", "已升级主管，等主管决定")
            self._show_blocked(reason, last[2] if last and last[0] == data.case.id else (summary or ""))
        else:  # decided (here, on another PC, from the CLI): the banner goes
            self.blocked.hide()
            if last is not None and last[0] == data.case.id:
                self.last_summary = None

    def _render_decision(self, data: CaseData) -> None:
        case = data.case
        waiting = case.status == "manager"
        self.decision_card.setVisible((waiting and data.may_decide) or bool(case.manager_decision))
        for w in (self.decider, self.decision_note, self.approve_button, self.decline_button, self.decision_hint):
            w.setVisible(waiting and data.may_decide)
        if waiting and not self.decider.text() and data.supervisor:
            self.decider.setText(data.agent)  # in team mode the supervisor's own login decides
        self.decision_label.setText(translate("Aftersales", "主管决定：{decision}（{by}）")
                                    .replace("{decision}", case.manager_decision)
                                    .replace("{by}", case.decided_by or "—") if case.manager_decision else "")
        self.decision_label.setVisible(bool(case.manager_decision))

    def _render_warehouse(self, data: CaseData) -> None:
        case = data.case
        self.warehouse_card.setVisible(case.open or bool(case.warehouse_findings))
        self.findings_label.setText(translate("Aftersales", "仓库反馈：{text}").replace("{text}", case.warehouse_findings)
                                    if case.warehouse_findings else translate("Aftersales", "还没有仓库反馈"))
        for w in (self.findings, self.findings_by, self.findings_button, self.check_button):
            w.setVisible(case.open)
        self.check_button.setEnabled(case.status != "warehouse")

    def _render_follow(self, data: CaseData) -> None:
        case = data.case
        self.follow_card.setVisible(case.open)
        if not case.open:
            return
        now = self.clock.now()
        names = af.followup_names()
        lines = []
        for r in data.followups[:3]:
            zh, en = names.get(r.cadence_id, (r.cadence_name, r.cadence_name_en or r.cadence_name))
            lines.append(f"{self._when(r.due_at, now, data.tz)}  {i18n.pick(zh, en)}")
        self.follow_label.setText("\n".join(lines) if lines else translate("Aftersales", "没有待跟进提醒"))

    def _render_end(self, data: CaseData) -> None:
        case = data.case
        self.end_title.setText(translate("Aftersales", "结案") if case.open else translate("Aftersales", "已结案"))
        self.resolve_row.setVisible(case.open)
        keep = self.outcome.currentData()
        self.outcome.blockSignals(True)
        self.outcome.clear()
        for code in af.OUTCOMES:
            if code != "withdrawn":  # a withdrawn case is closed, not resolved
                self.outcome.addItem(pick(af.OUTCOMES, code), code)
        self.outcome.setCurrentIndex(max(0, self.outcome.findData(keep)))
        self.outcome.blockSignals(False)
        self._outcome_changed()
        self.close_button.setVisible(case.status != "closed")
        self.close_button.setText(translate("Aftersales", "关闭（买家撤回）") if case.open
                                  else translate("Aftersales", "关闭"))
        self.reopen_button.setVisible(not case.open)

    def _render_history(self, data: CaseData) -> None:
        clear(self.history_box)
        lang = "en" if i18n.is_english() else "zh"
        now = self.clock.now()
        for e in reversed(data.history[-30:]):
            who = e.by_name or "—"
            if e.by_role == "supervisor":
                who += translate("Aftersales", "（主管）")
            elif e.by_role == "warehouse":
                who += translate("Aftersales", "（仓库）")
            line = wrapped("HistoryLine")
            line.setText(f"{self._when(e.at, now, data.tz)}  {who}  {e.describe(lang)}")
            self.history_box.addWidget(line)
        self.note.setEnabled(data.case.open)
        self.note_button.setEnabled(data.case.open)

    @staticmethod
    def _when(when: datetime, now: datetime, tz: tzinfo) -> str:
        local = when.astimezone(tz)
        return local.strftime("%H:%M") if local.date() == now.astimezone(tz).date() else local.strftime("%m-%d %H:%M")

    def _offer_changed(self) -> None:
        compensate = self.offer.currentData() == "compensate"
        self.amount.setEnabled(compensate and self.offer.isEnabled())
        if not compensate:
            self.amount.clear()

    def _outcome_changed(self) -> None:
        needs = self.outcome.currentData() in ("compensated", "refunded", "returned")
        self.outcome_amount.setEnabled(needs)
        if not needs:
            self.outcome_amount.clear()

    def _show_blocked(self, reason: str, summary: str) -> None:
        self.blocked_reason.setText("⚠ " + reason)
        self.summary.setPlainText(summary)
        self.summary.setVisible(bool(summary))
        self.copy_button.setVisible(bool(summary))
        self.blocked.show()

    def _reveal_blocked(self) -> None:
        """The offer row is far below the banner (under the header): scroll up to the reason and summary."""
        self.scroll.verticalScrollBar().setValue(0)

    # ------------------------------------------------------------ actions

    def _errors_off(self) -> None:
        for label in (self.steps_error, self.offer_error, self.decision_error, self.warehouse_error,
                      self.follow_error, self.end_error, self.note_error):
            label.hide()

    def _act(self, fn: Any, done: Any = None, error_label: QLabel | None = None) -> None:
        """A write job on the case; its KnownError is one line under the section it came from."""
        self._errors_off()

        def failed(exc: KnownError) -> None:
            text = i18n.pick(exc.zh, exc.en).splitlines()[0]
            if error_label is not None:
                error_label.setText(text)
                error_label.show()
            else:
                self.messages.post(exc.zh, exc.en, "warning")

        self.worker.submit(fn, done, failed, write=True)

    def _case(self) -> af.Case | None:
        return self.data.case if self.data is not None else None

    def paste(self, script: af.ScriptRef) -> None:
        """Paste a proposed script into the chat window, as the quick-replies list does (fill-in fields:
        {客户} the buyer, {商品} the case's product, {金额} the amount in the offer row; others are asked
        for by the paste flow)."""
        values = self._values()
        if self.paste_available:
            self.paste_requested.emit(script.reply_id, values)
            return
        from ...core import replies

        rendered = templates.render(script.body, values)
        if rendered.missing:  # no fill-in form without the paste flow: blanks never reach the buyer
            self.messages.post(*rendered.blanks_notice(), "warning")
            return
        QGuiApplication.clipboard().setText(rendered.text)
        self.messages.post("已复制，请按 Ctrl+V 粘贴到聊天窗口", "Copied: press Ctrl+V in the chat window", "success")
        rid = script.reply_id
        self.worker.submit(lambda store: replies.record_use(store, rid, via="copy"), write=True,
                           on_error=lambda _exc: None)

    def paste_script(self, n: int) -> None:
        if 1 <= n <= len(self.scripts):
            self.paste(self.scripts[n - 1].script)

    def set_severity(self, severity: str) -> None:
        case = self._case()
        if case is None or case.severity == severity:
            return
        now = self.clock.now()
        self._act(lambda store: af.update_case(store, case.id, severity=severity, now=now), error_label=self.steps_error)

    def set_wanted(self, wanted: str) -> None:
        case = self._case()
        if case is None or case.wanted == wanted:
            return
        now = self.clock.now()
        self._act(lambda store: af.update_case(store, case.id, wanted=wanted, now=now), error_label=self.steps_error)

    def set_category(self, category: Any, name: str = "") -> None:
        case = self._case()
        if case is None or category is None or (name or category) == case.category:
            return
        now = self.clock.now()
        self._act(lambda store: af.update_case(store, case.id, category=category, now=now),
                  error_label=self.steps_error)

    def set_mood(self, mood: str) -> None:
        case = self._case()
        if case is None or case.mood == mood:
            return
        now = self.clock.now()
        self._act(lambda store: af.update_case(store, case.id, mood=mood, now=now), error_label=self.steps_error)

    def advance(self) -> None:
        case = self._case()
        if case is None:
            return
        now = self.clock.now()
        self._act(lambda store: af.advance_step(store, case.id, now=now), error_label=self.steps_error)

    def make_offer(self) -> None:
        case = self._case()
        if case is None or not self.offer_button.isEnabled():
            return
        offer, amount, note = self.offer.currentData(), self.amount.text().strip(), self.offer_note.text()
        now = self.clock.now()

        def done(result: af.OfferResult) -> None:
            lang = "en" if i18n.is_english() else "zh"
            warnings = [i18n.pick(zh, en) for zh, en in result.check.warnings]
            if result.made:
                self.blocked.hide()
                self.last_summary = None
                what = pick(af.OFFERS, result.check.offer) + (f" {money_text(result.check.amount)}"
                                                               if result.check.amount is not None else "")
                self.messages.post(translate("Aftersales", "已提出方案：{offer}").replace("{offer}", what)
                                   + ("；" + "；".join(warnings) if warnings else ""), "", "success")
                self.amount.clear()
                self.offer_note.clear()
                return
            reason = translate("Aftersales", "未提出：{reason}。已升级主管（待主管），把下面这段发给主管：") \
                .replace("{reason}", result.check.reason(lang))
            self.last_summary = (result.case.id, reason, result.summary or "")
            self._show_blocked(reason, result.summary or "")
            self._reveal_blocked()
            self.messages.post(translate("Aftersales", "超出权限，已转为升级主管"), "", "warning")

        self._act(lambda store: af.make_offer(store, case.id, offer, amount or None, note=note, now=now), done,
                  self.offer_error)

    def escalate(self) -> None:
        case = self._case()
        if case is None:
            return
        reason = self.offer_note.text()
        now = self.clock.now()

        def done(result: af.OfferResult) -> None:
            text = translate("Aftersales", "已升级主管（待主管），把下面这段发给主管：")
            self.last_summary = (result.case.id, text, result.summary or "")
            self._show_blocked(text, result.summary or "")
            self._reveal_blocked()
            self.offer_note.clear()

        self._act(lambda store: af.escalate(store, case.id, reason=reason, now=now), done, self.offer_error)

    def copy_summary(self) -> None:
        text = self.summary.toPlainText()
        if not text:
            return
        QGuiApplication.clipboard().setText(text)  # no focus change: the agent pastes it into QQ/WeChat
        self.messages.post(translate("Aftersales", "升级说明已复制，请粘贴到主管的 QQ/微信"), "", "success")

    def decide(self, approve: bool) -> None:
        case = self._case()
        if case is None:
            return
        by, note = self.decider.text(), self.decision_note.text()
        now = self.clock.now()

        def done(_case: af.Case) -> None:
            self.last_summary = None
            self.blocked.hide()
            self.decision_note.clear()

        self._act(lambda store: af.decide(store, case.id, approve=approve, by=by, note=note, now=now), done,
                  self.decision_error)

    def check_warehouse(self) -> None:
        case = self._case()
        if case is None:
            return
        now = self.clock.now()
        self._act(lambda store: af.warehouse(store, case.id, now=now), error_label=self.warehouse_error)

    def record_findings(self) -> None:
        case = self._case()
        if case is None:
            return
        text, by = self.findings.text(), self.findings_by.text()
        now = self.clock.now()
        self._act(lambda store: af.warehouse(store, case.id, findings=text, by=by, now=now),
                  lambda _c: (self.findings.clear(), self.findings_by.clear()), self.warehouse_error)

    def promise_in(self, minutes: int) -> None:
        self._promise(self.clock.now() + timedelta(minutes=minutes))

    def promise_at(self) -> None:
        """"15:30" today (tomorrow if already past), or "2026-11-11 15:30", in the agent's time."""
        text = self.callback_at.text().strip()
        data = self.data
        if data is None:
            return
        now = self.clock.now()
        try:
            if len(text) <= 5 and ":" in text:
                hhmm = zones.parse_hhmm(text)
                local = now.astimezone(data.tz)
                when = datetime.combine(local.date(), hhmm, tzinfo=data.tz)
                if when <= now:
                    when += timedelta(days=1)
            else:
                when = reminders.parse_local(text, data.tz)
        except KnownError as exc:
            self.follow_error.setText(i18n.pick(exc.zh, exc.en).splitlines()[0])
            self.follow_error.show()
            return
        self._promise(when)

    def _promise(self, when: datetime) -> None:
        case, data = self._case(), self.data
        if case is None or data is None:
            return
        now = self.clock.now()

        def done(_rid: int) -> None:
            self.callback_at.clear()
            self.messages.post(translate("Aftersales", "已约定 {time} 回复买家，到时提醒").replace(
                "{time}", self._when(when, now, data.tz)), "", "success")

        self._act(lambda store: af.promise_callback(store, case.id, when, now=now), done, self.follow_error)

    def followed_up(self) -> None:
        case = self._case()
        if case is None:
            return
        now = self.clock.now()
        self._act(lambda store: af.followed_up(store, case.id, now=now), error_label=self.follow_error)

    def resolve(self) -> None:
        case = self._case()
        if case is None:
            return
        outcome, amount, note = self.outcome.currentData(), self.outcome_amount.text().strip(), self.end_note.text()
        now = self.clock.now()
        self._act(lambda store: af.resolve(store, case.id, outcome, amount=amount or None, note=note, now=now),
                  lambda _c: self.end_note.clear(), self.end_error)

    def close_case(self) -> None:
        case = self._case()
        if case is None:
            return
        note = self.end_note.text()
        now = self.clock.now()
        self._act(lambda store: af.close(store, case.id, note=note, now=now), lambda _c: self.end_note.clear(),
                  self.end_error)

    def reopen(self) -> None:
        case = self._case()
        if case is None:
            return
        note = self.end_note.text()
        now = self.clock.now()
        self._act(lambda store: af.reopen(store, case.id, note=note, now=now), lambda _c: self.end_note.clear(),
                  self.end_error)

    def add_note(self) -> None:
        case = self._case()
        text = self.note.text()
        if case is None or not text.strip():
            return
        now = self.clock.now()
        self._act(lambda store: af.update_case(store, case.id, note=text, now=now), lambda _c: self.note.clear(),
                  self.note_error)

    def reveal_order(self) -> None:
        case = self._case()
        if case is None:
            return

        def got(order: str) -> None:
            if self.data is not None and self.data.case.id == case.id:
                self.order_label.setText(translate("Aftersales", "订单 {order}").replace("{order}", order))
                self.reveal_button.hide()

        self.worker.submit(lambda store: af.reveal_order(store, case.id), got, self._on_load_error)

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.back_button.setText("‹ " + translate("Aftersales", "返回"))
        self.back_button.setToolTip(translate("Aftersales", "回到售后单列表 (Esc)"))
        self.reveal_button.setText(translate("Aftersales", "显示"))
        self.reveal_button.setToolTip(translate("Aftersales", "显示完整订单号"))
        self.mood_title.setText(translate("Aftersales", "情绪"))
        self.severity_title.setText(translate("Aftersales", "程度"))
        self.wanted_title.setText(translate("Aftersales", "诉求"))
        self.wanted_combo.setToolTip(translate("Aftersales", "买家想要的处理方式"))
        self.category_combo.setToolTip(translate("Aftersales", "问题分类"))
        for n in range(self.wanted_combo.count()):
            self.wanted_combo.setItemText(n, pick(af.WANTED, self.wanted_combo.itemData(n)))
        titles = (self.mood_title, self.severity_title, self.wanted_title)
        width = max(t.fontMetrics().horizontalAdvance(t.text()) for t in titles) + 6
        for title in titles:  # the rows start at one edge
            title.setFixedWidth(width)
        for code, b in self.severity_buttons.items():
            b.setText(pick(af.SEVERITIES, code))
            b.setToolTip(translate("Aftersales", SEVERITY_HINTS[code]) if code in SEVERITY_HINTS else "")
        for code, b in self.mood_buttons.items():
            b.setText(pick(af.MOODS, code))
            b.setToolTip(translate("Aftersales", "买家情绪变了就点一下"))
        self.steps_title.setText(translate("Aftersales", "安抚四步"))
        self.offer_button.setText(translate("Aftersales", "提出方案"))
        self.offer_button.setToolTip(translate("Aftersales", "在权限内：记为已提出；超出权限：不提出，转为升级主管"))
        self.amount.setPlaceholderText(translate("Aftersales", "金额 ¥"))
        self.offer_note.setPlaceholderText(translate("Aftersales", "说明 / 升级原因（可选）"))
        self.escalate_button.setText(translate("Aftersales", "升级主管"))
        self.escalate_button.setToolTip(translate("Aftersales", "买家很生气或要找主管：转给主管决定"))
        self.copy_button.setText(translate("Aftersales", "复制给主管"))
        self.copy_button.setToolTip(translate("Aftersales", "复制这段说明，粘贴到主管的 QQ/微信群"))
        self.decision_title.setText(translate("Aftersales", "主管决定"))
        self.decision_hint.setText(translate("Aftersales", "记录主管的答复：批准则记为主管提出的方案，不批准则回到安抚中。"))
        self.decider.setPlaceholderText(translate("Aftersales", "主管姓名"))
        self.decision_note.setPlaceholderText(translate("Aftersales", "说明（可选）"))
        self.approve_button.setText(translate("Aftersales", "批准"))
        self.decline_button.setText(translate("Aftersales", "不批准"))
        self.warehouse_title.setText(translate("Aftersales", "仓库"))
        self.findings.setPlaceholderText(translate("Aftersales", "仓库反馈，例如：出库前已检查，无破损"))
        self.findings_by.setPlaceholderText(translate("Aftersales", "反馈人"))
        self.check_button.setText(translate("Aftersales", "联系仓库核实"))
        self.check_button.setToolTip(translate("Aftersales", "状态改为待仓库，按仓库节奏提醒跟进"))
        self.findings_button.setText(translate("Aftersales", "记录仓库反馈"))
        self.follow_title.setText(translate("Aftersales", "跟进"))
        self.callback_title.setText(translate("Aftersales", "约定回复"))
        for minutes, b in self.callback_buttons.items():
            b.setText(translate("Aftersales", "%n 分钟", None, minutes) if minutes < 60
                      else translate("Aftersales", "%n 小时", None, minutes // 60))
            b.setToolTip(translate("Aftersales", "答应买家这个时间内回复：到时提醒"))
        self.callback_at.setPlaceholderText(translate("Aftersales", "15:30"))
        self.callback_button.setText(translate("Aftersales", "约定"))
        self.followed_button.setText(translate("Aftersales", "已跟进"))
        self.followed_button.setToolTip(translate("Aftersales", "刚跟进过买家：安排下一次跟进"))
        self.outcome_amount.setPlaceholderText(translate("Aftersales", "金额 ¥"))
        self.resolve_button.setText(translate("Aftersales", "已解决"))
        self.end_note.setPlaceholderText(translate("Aftersales", "备注（可选）"))
        self.reopen_button.setText(translate("Aftersales", "重新打开"))
        self.history_title.setText(translate("Aftersales", "记录"))
        self.note.setPlaceholderText(translate("Aftersales", "记一笔… Enter 保存"))
        self.note_button.setText(translate("Aftersales", "添加"))
        self.new_case_button.setText(translate("Aftersales", "为这位买家再开一单"))
        if self.data is not None:
            self._render()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
