"""Item models of the panel: the result list (one ReplyRow per row) and the group tree."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel

from ..widgets import i18n, icons, style
from .queries import GroupFilter, Library, ReplyRow

translate = QCoreApplication.translate


def compliance_label(row: ReplyRow) -> str:
    """"合规提示：好评返现、绝对化用语": the badge's tooltip and the preview's line (empty: none)."""
    if not row.compliance:
        return ""
    english = i18n.is_english()
    names: list[str] = []
    for f in row.compliance:
        name = f.category_en if english else f.category_zh
        if name not in names:
            names.append(name)
    return translate("Compliance", "合规提示：{names}").replace("{names}", ", ".join(names) if english
                                                               else "、".join(names))


def shop_label(row: ReplyRow) -> str:
    """"店铺话术 · 某某旗舰店": what the badge's tooltip and the preview say of a shop reply."""
    if row.shop_name:
        return translate("Team", "店铺话术 · {shop}").replace("{shop}", row.shop_name)
    return translate("Team", "店铺话术")


ROW_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ReplyRow] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.title
        if role == Qt.ItemDataRole.ToolTipRole:
            body = row.body if len(row.body) <= 400 else row.body[:400] + "…"
            head = "\n".join(t for t in (shop_label(row) if row.shop else "", compliance_label(row), row.group_path)
                             if t)
            return f"{head}\n\n{body}" if head else body
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{row.title}. {row.first_line}"
        if role == ROW_ROLE:
            return row
        if role == ID_ROLE:
            return row.id
        return None

    def set_rows(self, rows: list[ReplyRow] | tuple[ReplyRow, ...]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, n: int) -> ReplyRow | None:
        return self._rows[n] if 0 <= n < len(self._rows) else None

    def index_of(self, reply_id: int) -> int:
        for n, row in enumerate(self._rows):
            if row.id == reply_id:
                return n
        return -1

    def rows(self) -> list[ReplyRow]:
        return list(self._rows)


FILTER_ROLE = Qt.ItemDataRole.UserRole + 1


class GroupsModel(QStandardItemModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self._library: Library | None = None

    def set_library(self, library: Library | None) -> None:
        self._library = library
        self.rebuild()

    def rebuild(self) -> None:
        library = self._library
        self.clear()
        self.setColumnCount(2)
        root = self.invisibleRootItem()
        total = library.total if library else 0
        root.appendRow(self._row(translate("Groups", "全部回复"), "list", GroupFilter("all"), total))
        root.appendRow(self._row(translate("Groups", "常用"), "star", GroupFilter("used"),
                                 library.used if library else 0))
        root.appendRow(self._row(translate("Groups", "最近"), "clock", GroupFilter("recent"),
                                 library.recent if library else 0))
        if library is None:
            return
        parents: dict[int, QStandardItem] = {}
        for g in library.groups:
            items = self._row(g.name, "folder", GroupFilter("group", g.id), g.count)
            items[0].setToolTip(g.path)
            if g.parent_id is None:
                root.appendRow(items)
                parents[g.id] = items[0]
            elif g.parent_id in parents:
                parents[g.parent_id].appendRow(items)

    @staticmethod
    def _row(text: str, icon: str, flt: GroupFilter, count: int) -> list[QStandardItem]:
        name = QStandardItem(icons.icon(icon), text)
        name.setData(flt, FILTER_ROLE)
        name.setEditable(False)
        number = QStandardItem(str(count) if count else "")
        number.setData(flt, FILTER_ROLE)
        number.setEditable(False)
        number.setForeground(QColor(style.TEXT_3))
        number.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return [name, number]

    def find(self, flt: GroupFilter):
        """Index of the row for a filter (to keep the selection across a rebuild)."""
        def walk(parent: QStandardItem):
            for n in range(parent.rowCount()):
                item = parent.child(n, 0)
                if item.data(FILTER_ROLE) == flt:
                    return item.index()
                found = walk(item)
                if found is not None:
                    return found
            return None

        return walk(self.invisibleRootItem())
