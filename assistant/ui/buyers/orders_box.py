"""The chosen buyer's unpaid orders (催付) in the 客户 tab: each with its number masked, the amount and
the time left before the platform closes it; add one typed, paste the order text the chat client
shows, mark paid or closed, show the full number on request, import the platform's order export.

Every read and write is a StoreWorker job (core/orders.py does the work).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import customers, masking, orders, reminders, zones
from ...core.clock import Clock
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from ..reminders.reminders import countdown_text, order_line, urgent
from ..team import holder as holding
from ..widgets import i18n, icons, style

translate = QCoreApplication.translate
ORDER_ROLE = Qt.ItemDataRole.UserRole + 1
REFRESH_MS = 60_000  # the countdowns move on by the minute


class OrderDialog(QDialog):
    """Add an unpaid order for a buyer: typed (number, amount, closing time, item) or pasted (the order
    text as the chat client shows it; what is read is shown before saving)."""

    #: the order was saved (orders.Order)
    saved = Signal(object)

    def __init__(self, worker: StoreWorker, clock: Clock, buyer: customers.Buyer, paste: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OrderDialog")
        self.worker, self.clock, self.buyer, self.paste = worker, clock, buyer, paste
        layout = QVBoxLayout(self)
        self.hint = QLabel(objectName="Hint")
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        self.form = QFormLayout()
        self.number, self.amount, self.deadline, self.item = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.text = QPlainTextEdit()
        self.found = QLabel(objectName="CardMeta")
        self.found.setWordWrap(True)
        self.labels: list[tuple[QLabel, str]] = []
        if paste:
            self.text.setMinimumHeight(140)
            self.text.textChanged.connect(self._preview)
            layout.addWidget(self.text)
            layout.addWidget(self.found)
            clip = QGuiApplication.clipboard().text()
            if clip and orders.parse_order_text(clip, tz=self._tz(), now=clock.now()).order_no:
                self.text.setPlainText(clip[:4000])  # an order just copied from the chat client
        else:
            for widget, label in ((self.number, "订单号"), (self.amount, "金额"), (self.deadline, "关闭时间"),
                                  (self.item, "商品")):
                caption = QLabel()
                self.labels.append((caption, label))
                self.form.addRow(caption, widget)
            layout.addLayout(self.form)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.resize(360, 300 if paste else 220)
        self._retranslate()
        self._preview()

    def _tz(self) -> Any:
        return zones.local_zone()

    def _preview(self) -> None:
        if not self.paste:
            return
        parsed = orders.parse_order_text(self.text.toPlainText(), tz=self._tz(), now=self.clock.now())
        now = self.clock.now()
        bits = []
        if parsed.order_no:
            bits.append(translate("Orders", "订单号 {no}").replace("{no}", masking.mask_order(parsed.order_no)))
        if parsed.amount is not None:
            bits.append("¥" + reminders.format_amount(parsed.amount))
        if parsed.deadline is not None:
            bits.append(countdown_text(parsed.deadline, now))
        self.found.setText(translate("Orders", "读到：") + "  ·  ".join(bits) if bits
                           else translate("Orders", "还没读到订单号"))
        self.save_button.setEnabled(parsed.order_no is not None)

    def save(self) -> None:
        bid, now = self.buyer.id, self.clock.now()
        if self.paste:
            text = self.text.toPlainText()

            def run(store: Any) -> orders.Order:
                return orders.paste_order(store, text, buyer_id=bid, now=now)[0]
        else:
            number, amount = self.number.text(), self.amount.text()
            deadline_text, item = self.deadline.text().strip(), self.item.text()

            def run(store: Any) -> orders.Order:
                tz = reminders.get_config(store).agent_tz
                closes = orders.parse_time(deadline_text, tz, now) if deadline_text else None
                return orders.add_order(store, number, buyer_id=bid, amount=amount or None, deadline=closes,
                                        item=item, now=now)[0]

        self.save_button.setEnabled(False)
        self.worker.submit(run, self._saved, self._failed, write=True)

    def _saved(self, order: orders.Order) -> None:
        self.saved.emit(order)
        self.accept()

    def _failed(self, exc: KnownError) -> None:
        self.save_button.setEnabled(True)
        self.error.setText(i18n.pick(exc.zh, exc.en))
        self.error.show()

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Orders", "粘贴订单文字") if self.paste else translate("Orders", "添加未付款订单"))
        self.hint.setText(translate("Orders", "在聊天窗口复制订单（订单号、金额、剩余时间），粘贴到这里：能读到的都会填上。")
                          if self.paste else translate("Orders", "买家：{nick}").replace("{nick}", self.buyer.nickname))
        names = {"订单号": translate("Orders", "订单号"), "金额": translate("Orders", "金额"),
                 "关闭时间": translate("Orders", "关闭时间"), "商品": translate("Orders", "商品")}
        for caption, key in self.labels:
            caption.setText(names[key])
        self.amount.setPlaceholderText(translate("Orders", "例如 128 或 128.00"))
        self.deadline.setPlaceholderText(translate("Orders", "留空 = 平台默认；例如 2026-11-13 14:00"))
        self.item.setPlaceholderText(translate("Orders", "可不填"))
        self.text.setPlaceholderText(translate("Orders", "例如：订单号：3391… 实付款：¥128.00 剩余23小时59分自动关闭"))
        self.cancel_button.setText(translate("Orders", "取消"))
        self.save_button.setText(translate("Orders", "保存"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "save_button"):
            self._retranslate()
        super().changeEvent(event)


class OrdersBox(QFrame):
    """未付款订单 of the chosen buyer, under the buyer's actions in the 客户 tab."""

    #: the list was shown (tests wait for it)
    refreshed = Signal()

    def __init__(self, worker: StoreWorker, clock: Clock, messages: MessageBridge,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OrdersBox")
        self.worker, self.clock, self.messages = worker, clock, messages
        self.buyer: customers.Buyer | None = None
        self.holder: str | None = None  # team mode: the colleague following self.buyer
        # team mode: () -> the live TeamSync (services/teamsync.py) or None; set by app.py
        self.team_sync: Any = None
        self.items: list[orders.Order] = []
        self.dialog: QDialog | None = None  # the last one opened (tests drive it)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        head = QHBoxLayout()
        head.setSpacing(4)
        self.title = QLabel(objectName="SectionTitle")
        self.add_button = QPushButton()
        self.paste_button = QPushButton()
        self.more_button = QToolButton()
        self.more_button.setIcon(icons.icon("list", style.TEXT_2))
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self)
        self.import_action = self.menu.addAction("", self.import_file)
        self.template_action = self.menu.addAction("", self.save_template)
        self.more_button.setMenu(self.menu)
        self.add_button.clicked.connect(lambda: self.open_dialog(paste=False))
        self.paste_button.clicked.connect(lambda: self.open_dialog(paste=True))
        head.addWidget(self.title, 1)
        for b in (self.add_button, self.paste_button, self.more_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            head.addWidget(b)
        layout.addLayout(head)
        self.list = QListWidget(objectName="HistoryList")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setMaximumHeight(64)
        self.list.currentItemChanged.connect(lambda *_: self._enable())
        layout.addWidget(self.list)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.paid_button, self.closed_button, self.reveal_button = QPushButton(), QPushButton(), QPushButton()
        self.closed_button.setObjectName("Danger")
        self.paid_button.clicked.connect(lambda: self.set_status("paid"))
        self.closed_button.clicked.connect(lambda: self.set_status("closed"))
        self.reveal_button.clicked.connect(self.reveal)
        for b in (self.paid_button, self.closed_button, self.reveal_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            row.addWidget(b, 1)
        layout.addLayout(row)
        self.revealed: str | None = None
        self._show_list(False)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._repaint)
        self._timer.start()
        worker.data_changed.connect(self.refresh)
        self._retranslate()
        self._enable()

    def _show_list(self, shown: bool) -> None:
        # no order: the title row only (a 768 px screen has no height to spare in the 客户 tab)
        self.list.setVisible(shown)
        for b in (self.paid_button, self.closed_button, self.reveal_button):
            b.setVisible(shown)

    # ------------------------------------------------------------ data

    def set_buyer(self, buyer: customers.Buyer | None, holder: str | None = None) -> None:
        """holder: team mode, the colleague following this buyer (their display name): its orders are
        theirs to add and mark (the server refuses others too), so those buttons wait for a take-over."""
        if buyer is None or self.buyer is None or buyer.id != self.buyer.id:
            self.revealed = None
        self.buyer = buyer
        self.holder = holder if buyer is not None else None
        for b in (self.add_button, self.paste_button):
            b.setEnabled(buyer is not None and not self.holder)
        self._tooltips()
        self._enable()
        self.refresh()

    def refresh(self) -> None:
        if self.buyer is None:
            self._on_orders([])
            return
        bid = self.buyer.id
        self.worker.submit(lambda store: orders.list_orders(store, buyer_id=bid, status="unpaid"), self._on_orders,
                           key="buyers.orders")

    def _on_orders(self, items: list[orders.Order]) -> None:
        if items and self.buyer is not None and items[0].buyer_id != self.buyer.id:
            return  # an answer for a buyer no longer chosen
        keep = self.current().id if self.current() is not None else None
        self.items = items
        self.list.blockSignals(True)
        self.list.clear()
        for order in items:
            item = QListWidgetItem()
            item.setData(ORDER_ROLE, order)
            self.list.addItem(item)
            if order.id == keep:
                self.list.setCurrentItem(item)
        if items and self.list.currentItem() is None:
            self.list.setCurrentRow(0)
        if not items:
            self.list.addItem(translate("Orders", "没有未付款订单"))
        self.list.blockSignals(False)
        self._show_list(bool(items))
        self._repaint()
        self._enable()
        self.refreshed.emit()

    def _repaint(self) -> None:
        now = self.clock.now()
        for i in range(self.list.count()):
            item = self.list.item(i)
            order = item.data(ORDER_ROLE)
            if order is None:
                continue
            item.setText(order_line(order, now))
            item.setForeground(QColor(style.ERROR if urgent(order.deadline_at, now) else style.TEXT))
            item.setToolTip(translate("Orders", "下单 {placed} · 关闭 {closes}{item}")
                            .replace("{placed}", order.ordered_at.astimezone().strftime("%m-%d %H:%M"))
                            .replace("{closes}", order.deadline_at.astimezone().strftime("%m-%d %H:%M"))
                            .replace("{item}", f" · {order.item}" if order.item else ""))

    def current(self) -> orders.Order | None:
        item = self.list.currentItem()
        return item.data(ORDER_ROLE) if item is not None else None

    def _enable(self) -> None:
        chosen = self.current() is not None
        for b in (self.paid_button, self.closed_button, self.reveal_button):
            b.setEnabled(chosen and (b is self.reveal_button or not self.holder))

    # ------------------------------------------------------------ actions

    def open_dialog(self, paste: bool) -> QDialog | None:
        if self.buyer is None:
            return None
        dialog = OrderDialog(self.worker, self.clock, self.buyer, paste, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda order: self.messages.post(
            translate("Orders", "已记下订单 {no}，催付提醒已安排").replace("{no}", order.order_masked), "", "success"))
        self.dialog = dialog
        dialog.show()
        return dialog

    def set_status(self, status: str) -> None:
        order = self.current()
        if order is None:
            return
        oid, now = order.id, self.clock.now()
        text = translate("Orders", "订单 {no} 已付款，催付已停止") if status == "paid" else \
            translate("Orders", "订单 {no} 已关闭，催付已停止")

        def done(saved: orders.Order) -> None:
            self.messages.post(text.replace("{no}", saved.order_masked), "", "success")

        self.worker.submit(lambda store: orders.set_status(store, f"#{oid}", status, now), done, self._error,
                           write=True)

    def reveal(self) -> None:
        """显示完整订单号: only on this click, and only until another buyer is chosen."""
        order = self.current()
        if order is None:
            return
        oid, ouuid = order.id, order.uuid

        def got(number: str) -> None:
            if "*" in number:  # team mode: only the server holds the full number (an audited reveal there)
                sync = self.team_sync() if self.team_sync is not None else None
                if sync is None:
                    self.messages.post(translate("Orders", "本机只有打码的订单号，完整订单号在团队服务器上（未连接）"), "",
                                       "warning")
                    return
                sync.call(lambda conn: conn.execute("SELECT kefu_reveal_order_number(%s)", [ouuid]).fetchone()[0],
                          lambda full: shown(full) if full else self.messages.post(
                              translate("Orders", "团队服务器上也没有完整订单号"), "", "warning"), self._server_error)
                return
            shown(number)

        def shown(number: str) -> None:
            self.revealed = number
            self.reveal_button.setText(number)
            self.reveal_button.setToolTip(translate("Orders", "完整订单号（点击复制）"))
            QGuiApplication.clipboard().setText(number)
            self.messages.post(translate("Orders", "完整订单号已复制"), "", "info")

        self.worker.submit(lambda store: orders.reveal_order(store, f"#{oid}"), got, self._error)

    def import_file(self, path: str | None = None) -> None:
        """Import a platform's order export; rows without a platform or shop are of the chosen buyer's."""
        platform = self.buyer.platform if self.buyer is not None else None
        shop = self.buyer.shop if self.buyer is not None else None
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self, translate("Orders", "导入平台导出的订单"), "",
                                                  translate("Orders", "表格 (*.xlsx *.csv)"))
        if not path:
            return

        def done(result: orders.ImportResult) -> None:
            self.messages.post(translate("Orders", "已导入订单：新增 {added}，更新 {updated}，跳过 {skipped}")
                               .replace("{added}", str(result.added)).replace("{updated}", str(result.updated))
                               .replace("{skipped}", str(result.skipped)), "", "success")

        self.worker.submit(lambda store: orders.import_file(store, path, platform=platform, shop=shop), done, self._error,
                           write=True)

    def save_template(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, translate("Orders", "保存订单导入模板"), "订单模板.xlsx",
                                                  translate("Orders", "表格 (*.xlsx *.csv)"))
        if not path:
            return
        self.worker.submit(lambda store: orders.export_file(store, path, template=True),
                           lambda _n: self.messages.post(translate("Orders", "模板已保存"), "", "success"), self._error)

    def _error(self, exc: KnownError) -> None:
        self.messages.post(exc.zh, exc.en, "warning")

    def _server_error(self, exc: BaseException) -> None:
        """The team server's answer to a reveal: a TeamError's line, or its SQLSTATE only (never a number)."""
        if isinstance(exc, KnownError):
            self._error(exc)
            return
        state = getattr(exc, "sqlstate", None) or type(exc).__name__
        self.messages.post(translate("Orders", "团队服务器拒绝了显示完整订单号（{state}）").replace("{state}", state), "",
                           "warning")

    # ------------------------------------------------------------ language

    def _tooltips(self) -> None:
        blocked = holding.orders_blocked_text(self.holder) if self.holder else ""
        self.add_button.setToolTip(blocked or translate("Orders", "手动添加一个未付款订单"))
        self.paste_button.setToolTip(blocked or translate("Orders", "粘贴聊天窗口里的订单文字，自动读出订单号、金额和剩余时间"))
        self.paid_button.setToolTip(blocked)
        self.closed_button.setToolTip(blocked)

    def _retranslate(self) -> None:
        self.title.setText(translate("Orders", "未付款订单"))
        self.add_button.setText(translate("Orders", "添加"))
        self.paste_button.setText(translate("Orders", "粘贴订单"))
        self._tooltips()
        self.more_button.setToolTip(translate("Orders", "导入订单表格"))
        self.import_action.setText(translate("Orders", "导入平台导出的订单（CSV/XLSX）…"))
        self.template_action.setText(translate("Orders", "导出订单导入模板…"))
        self.paid_button.setText(translate("Orders", "已付款"))
        self.closed_button.setText(translate("Orders", "已关闭"))
        if self.revealed is None:
            self.reveal_button.setText(translate("Orders", "显示完整订单号"))
            self.reveal_button.setToolTip("")
        if self.items:
            self._repaint()
        elif self.list.count() == 1 and self.list.item(0).data(ORDER_ROLE) is None:
            self.list.item(0).setText(translate("Orders", "没有未付款订单"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "reveal_button"):
            self._retranslate()
        super().changeEvent(event)

