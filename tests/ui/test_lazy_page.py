"""LazyPage (issue 17): a tab's page is built once, when its tab is first shown or page() is asked."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStackedWidget


def test_built_once_when_first_shown(qtbot):
    from assistant.ui.widgets.lazy import LazyPage

    made = []

    def factory() -> QLabel:
        made.append(QLabel("page"))
        return made[-1]

    stack = QStackedWidget()
    qtbot.addWidget(stack)
    stack.addWidget(QLabel("first"))
    lazy = LazyPage("test", factory)
    stack.addWidget(lazy)
    stack.show()
    qtbot.waitExposed(stack)
    assert not lazy.is_built() and made == []  # shown stack, other page current: nothing built
    with qtbot.waitSignal(lazy.built):
        stack.setCurrentWidget(lazy)
    assert lazy.is_built() and lazy.page() is made[0] and made[0].isVisible()
    stack.setCurrentIndex(0)
    stack.setCurrentWidget(lazy)
    assert lazy.page() is made[0] and len(made) == 1


def test_page_builds_it_while_hidden(qtbot):
    from assistant.ui.widgets.lazy import LazyPage

    lazy = LazyPage("test", lambda: QLabel("page"))
    qtbot.addWidget(lazy)
    page = lazy.page()  # an entry point (a reminder card, a hotkey) needs it before the tab was opened
    assert lazy.is_built() and page.parent() is lazy and lazy.page() is page
