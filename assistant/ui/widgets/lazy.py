"""A tab's page built the first time it is shown or asked for (issue 17: the 客户 / 售后 / 交接 pages are
~10 MB of widgets and modules most starts never open)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

log = logging.getLogger(__name__)


class LazyPage(QWidget):
    """Holds the place of a page in the panel's stack; page() builds it with `factory` (once) and puts it
    inside. Shown (its tab opened) it builds itself; an entry point that needs the page (a signal from
    a reminder card, the after-sales hotkey) calls page()."""

    #: the page, just built (wire its signals here if they must not wait for page())
    built = Signal(QWidget)

    def __init__(self, name: str, factory: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"LazyPage_{name}")
        self._name = name
        self._factory: Callable[[], QWidget] | None = factory
        self._page: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def is_built(self) -> bool:
        return self._page is not None

    def page(self) -> QWidget:
        if self._page is None:
            factory, self._factory = self._factory, None
            assert factory is not None
            started = time.perf_counter()
            page = factory()
            self._page = page
            self.layout().addWidget(page)
            page.show()  # shown with this page (now, if its tab is open)
            log.info("page %s built in %.0f ms", self._name, (time.perf_counter() - started) * 1000)
            self.built.emit(page)
        return self._page

    def showEvent(self, event: QShowEvent) -> None:
        self.page()
        super().showEvent(event)
