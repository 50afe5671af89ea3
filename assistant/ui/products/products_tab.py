"""The 商品资料 view: the shop's products (core/products.py) listed, added, edited, deleted, imported
from a CSV/XLSX sheet and exported; a template sheet to fill in. Store work runs on the worker.

A product's selling points (卖点) are typed one a line: the chase proposals send them in that order,
each one once per buyer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt, QTimer, Signal
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
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core import products, teamstate
from ...errors import KnownError
from ...services.messages import MessageBridge
from ...services.worker import StoreWorker
from ..widgets import i18n

translate = QCoreApplication.translate

# chooser(kind, suggested name) -> a path or None; kind: "open" (import) or "save" (export, template)
FileChooser = Callable[[str, str], "str | None"]

# (attribute, label source, one line?) in the editor's order; labels in the "Products" context
_FIELDS = (
    ("name", QT_TRANSLATE_NOOP("Products", "名称"), True),
    ("short_name", QT_TRANSLATE_NOOP("Products", "简称"), True),
    ("shop", QT_TRANSLATE_NOOP("Products", "店铺"), True),
    ("item_ref", QT_TRANSLATE_NOOP("Products", "链接/ID"), True),
    ("price_band", QT_TRANSLATE_NOOP("Products", "价格区间"), True),
    ("selling_points", QT_TRANSLATE_NOOP("Products", "卖点"), False),
    ("material", QT_TRANSLATE_NOOP("Products", "材质"), False),
    ("size", QT_TRANSLATE_NOOP("Products", "尺码"), False),
    ("care", QT_TRANSLATE_NOOP("Products", "保养"), False),
    ("gift", QT_TRANSLATE_NOOP("Products", "赠品"), True),
    ("promotion", QT_TRANSLATE_NOOP("Products", "优惠说明"), True),
)


def ask_file(parent: QWidget, kind: str, suggested: str) -> str | None:
    sheets = translate("Products", "表格 (*.xlsx *.csv)")
    if kind == "open":
        path, _ = QFileDialog.getOpenFileName(parent, translate("Products", "导入商品表格"), "", sheets)
    else:
        path, _ = QFileDialog.getSaveFileName(parent, translate("Products", "保存商品表格"), suggested, sheets)
    return path or None


class ProductsTab(QWidget):
    """The 商品资料 view. It lives in a window of its own (ProductsDialog), opened from the 客户 tab:
    the panel's tab bar is full at 360 px."""

    #: the list was shown (tests wait for it)
    refreshed = Signal()
    #: a product was saved (its id) or deleted (None)
    saved = Signal(object)

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, *, messages: MessageBridge | None = None,
                 choose_file: Callable[[QWidget, str, str], str | None] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProductsTab")
        self.worker = worker
        self.messages = messages if messages is not None else MessageBridge(self)
        self.choose_file = choose_file or ask_file
        self.items: list[products.Product] = []
        self.current: products.Product | None = None  # None: a new product is being typed
        self.supervisor = False  # team mode: a supervisor changes the shop's products (refreshed with the list)
        self._select_after: int | None = None
        self._build()
        self._refresh_timer = QTimer(self, singleShot=True, interval=150)
        self._refresh_timer.timeout.connect(self.refresh)
        worker.data_changed.connect(self._refresh_timer.start)
        self._retranslate()
        self.new_product()
        self.refresh()

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.search = QLineEdit(objectName="SearchBox")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda _t: self._refresh_timer.start())
        self.add_button = QPushButton()
        self.add_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.add_button.clicked.connect(self.new_product)
        self.more_button = QToolButton()
        self.more_button.setText("⋯")
        self.more_button.setFixedWidth(34)
        self.more_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more_menu = QMenu(self.more_button)
        self.import_action = self.more_menu.addAction("", self.import_dialog)
        self.export_action = self.more_menu.addAction("", lambda: self.export_dialog(template=False))
        self.template_action = self.more_menu.addAction("", lambda: self.export_dialog(template=True))
        self.more_button.setMenu(self.more_menu)
        row.addWidget(self.search, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.more_button)
        layout.addLayout(row)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        list_box = QWidget()
        lb = QVBoxLayout(list_box)
        lb.setContentsMargins(0, 0, 0, 0)
        self.list = QListWidget(objectName="ResultList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.currentItemChanged.connect(self._on_current)
        self.empty = QLabel(objectName="Hint")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        lb.addWidget(self.list, 1)
        lb.addWidget(self.empty)
        self.splitter.addWidget(list_box)
        self.splitter.addWidget(self._build_editor())
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([150, 560])
        layout.addWidget(self.splitter, 1)

    def _build_editor(self) -> QWidget:
        self.editor = QFrame(objectName="Preview")
        outer = QVBoxLayout(self.editor)
        outer.setContentsMargins(8, 6, 8, 8)
        outer.setSpacing(5)
        self.editor_title = QLabel(objectName="CardTitle")
        outer.addWidget(self.editor_title)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        self.form = QFormLayout(body)
        self.form.setContentsMargins(0, 0, 4, 0)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.inputs: dict[str, QLineEdit | QPlainTextEdit] = {}
        self.labels: dict[str, QLabel] = {}
        for attr, _label, one_line in _FIELDS:
            widget: QLineEdit | QPlainTextEdit
            if one_line:
                widget = QLineEdit()
            else:
                widget = QPlainTextEdit()
                widget.setTabChangesFocus(True)
                widget.setFixedHeight(96 if attr == "selling_points" else 52)
            self.inputs[attr] = widget
            self.labels[attr] = QLabel()
            self.form.addRow(self.labels[attr], widget)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.error = QLabel(objectName="FieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        outer.addWidget(self.error)
        buttons = QHBoxLayout()
        self.delete_button = QPushButton()
        self.delete_button.clicked.connect(self.delete_current)
        self.save_button = QPushButton(objectName="Primary")
        self.save_button.clicked.connect(self.save)
        buttons.addWidget(self.delete_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        outer.addLayout(buttons)
        return self.editor

    # ------------------------------------------------------------ list

    def refresh(self) -> None:
        text = self.search.text().strip() or None
        def run(store: Any) -> tuple[list[products.Product], bool]:
            return products.list_products(store, query=text), teamstate.team_kind(store) == "supervisor"

        self.worker.submit(run, lambda got: self._on_products(*got), key=f"products.list-{id(self)}")

    def _on_products(self, items: list[products.Product], supervisor: bool = False) -> None:
        self.supervisor = supervisor
        self.items = items
        keep = self._select_after if self._select_after is not None else (self.current.id if self.current else None)
        self._select_after = None
        self.list.blockSignals(True)
        self.list.clear()
        for p in items:
            points = translate("Products", "%n 条卖点", None, len(p.selling_points))
            extra = " · ".join(x for x in (p.short_name, p.shop, p.price_band, points) if x)
            item = QListWidgetItem(f"{p.name}\n{extra}")
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            item.setToolTip(p.item_ref or p.name)
            self.list.addItem(item)
            if p.id == keep:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if keep is not None:
            found = next((p for p in items if p.id == keep), None)
            if found is not None:
                self.show_product(found)
            elif self.current is not None:
                self.new_product()  # it was deleted elsewhere
        self.empty.setText(translate("Products", "还没有商品。点“添加”录入，或从 ⋯ 菜单导入店铺的商品表格。")
                           if not items and not self.search.text().strip() else
                           translate("Products", "没有找到商品") if not items else "")
        self.empty.setVisible(not items)
        self.refreshed.emit()

    def _on_current(self, item: QListWidgetItem | None, _prev: Any = None) -> None:
        if item is None:
            return
        pid = item.data(Qt.ItemDataRole.UserRole)
        found = next((p for p in self.items if p.id == pid), None)
        if found is not None:
            self.show_product(found)

    # ------------------------------------------------------------ editor

    def new_product(self) -> None:
        self.current = None
        self.list.blockSignals(True)
        self.list.setCurrentItem(None)
        self.list.clearSelection()
        self.list.blockSignals(False)
        for widget in self.inputs.values():
            widget.clear() if isinstance(widget, QLineEdit) else widget.setPlainText("")
        self.error.hide()
        self._update_title()
        self.inputs["name"].setFocus(Qt.FocusReason.OtherFocusReason)

    def show_product(self, product: products.Product) -> None:
        self.current = product
        for attr, widget in self.inputs.items():
            value = getattr(product, attr)
            text = "\n".join(value) if attr == "selling_points" else str(value)
            if isinstance(widget, QLineEdit):
                widget.setText(text)
                widget.setCursorPosition(0)
            else:
                widget.setPlainText(text)
        self.error.hide()
        self._update_title()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, widget in self.inputs.items():
            out[attr] = widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
        out["selling_points"] = [line for line in out["selling_points"].split("\n") if line.strip()]
        return out

    def save(self) -> None:
        values = self.values()
        current = self.current

        def run(store: Any) -> products.Product:
            if current is None:
                name = values.pop("name")
                return products.add_product(store, name, **values)
            return products.edit_product(store, current.id, **values)

        def done(product: products.Product) -> None:
            self.error.hide()
            self._select_after = product.id
            self.current = product
            self._update_title()
            self.messages.post(f"已保存商品“{product.name}”", f"Product saved: {product.name}", "success")
            self.saved.emit(product.id)

        self.worker.submit(run, done, self._failed, write=True)

    def delete_current(self) -> None:
        current = self.current
        if current is None:
            self.new_product()
            return

        def done(_p: products.Product) -> None:
            self.new_product()
            self.messages.post(f"已删除商品“{current.name}”", f"Product deleted: {current.name}", "info")
            self.saved.emit(None)

        self.worker.submit(lambda store: products.delete_product(store, current.id), done, self._failed, write=True)

    def _failed(self, exc: KnownError) -> None:
        self.error.setText(i18n.pick(exc.zh, exc.en))
        self.error.show()

    def editable(self) -> bool:
        """A shop's product (team mode) is the supervisors' to change: an agent's panel shows it read-only."""
        return self.current is None or self.current.team_shop is None or self.supervisor

    def _update_title(self) -> None:
        editable = self.editable()
        for widget in self.inputs.values():
            widget.setReadOnly(not editable)
        for b in (self.save_button, self.delete_button):
            b.setEnabled(editable)
            b.setToolTip("" if editable else translate("Products", "店铺的商品资料只有主管可以修改"))
        self.editor_title.setText(translate("Products", "新商品") if self.current is None
                                  else translate("Products", "编辑商品") if editable
                                  else translate("Products", "店铺商品（只读）"))
        self.delete_button.setText(translate("Products", "清空") if self.current is None
                                   else translate("Products", "删除"))

    # ------------------------------------------------------------ files

    def import_dialog(self) -> None:
        path = self.choose_file(self, "open", "")
        if path:
            self.import_from(path)

    def import_from(self, path: str | Path) -> None:
        def done(result: products.ImportResult) -> None:
            self.messages.post(f"已导入商品：新增 {result.added} 个，更新 {result.updated} 个",
                               f"Products imported: {result.added} added, {result.updated} updated", "success")

        def failed(exc: KnownError) -> None:
            self.messages.post(exc.zh, exc.en, "warning")

        self.worker.submit(lambda store: products.import_file(store, path), done, failed, write=True)

    def export_dialog(self, template: bool) -> None:
        suggested = translate("Products", "商品导入模板.xlsx") if template else translate("Products", "商品资料.xlsx")
        path = self.choose_file(self, "save", suggested)
        if path:
            self.export_to(path, template)

    def export_to(self, path: str | Path, template: bool = False) -> None:
        def done(n: int) -> None:
            self.messages.post(f"已导出 {n} 个商品：{path}", f"{n} products exported: {path}", "success")

        def failed(exc: KnownError) -> None:
            self.messages.post(exc.zh, exc.en, "warning")

        def run(store: Any) -> int:
            try:
                return products.export_file(store, path, template=template)
            except OSError as exc:
                from ...errors import StoreError

                raise StoreError(f"无法写入文件：{path}（{exc.strerror or exc}）",
                                 f"Cannot write {path} ({exc.strerror or exc})") from exc

        self.worker.submit(run, done, failed)

    # ------------------------------------------------------------ language

    def _retranslate(self) -> None:
        self.search.setPlaceholderText(translate("Products", "搜索商品名称、简称或链接"))
        self.add_button.setText(translate("Products", "添加"))
        self.more_button.setToolTip(translate("Products", "导入、导出"))
        self.import_action.setText(translate("Products", "从表格导入（CSV/XLSX）…"))
        self.export_action.setText(translate("Products", "导出全部商品…"))
        self.template_action.setText(translate("Products", "导出导入模板…"))
        for attr, label, _ in _FIELDS:
            self.labels[attr].setText(translate("Products", label))
        self.inputs["selling_points"].setPlaceholderText(
            translate("Products", "每行一条，按想发的顺序写；催单时每位买家每条只发一次"))
        self.inputs["item_ref"].setPlaceholderText(translate("Products", "可不填"))
        self.inputs["short_name"].setPlaceholderText(translate("Products", "填空{商品}用它，可不填"))
        self.save_button.setText(translate("Products", "保存"))
        self._update_title()
        if self.items or self.empty.isVisible():
            self._on_products(self.items)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "save_button"):
            self._retranslate()
        super().changeEvent(event)


class ProductsDialog(QDialog):
    """The 商品资料 window (non-modal): the 客户 tab's 商品 button and the product chip's menu open it."""

    def __init__(self, worker: StoreWorker, parent: QWidget | None = None, *,
                 messages: MessageBridge | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProductsDialog")
        self.view = ProductsTab(worker, self, messages=messages)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.view)
        self.resize(400, 680)
        self._retranslate()

    def _retranslate(self) -> None:
        self.setWindowTitle(translate("Products", "商品资料"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)
