"""The 交接 tab after the clock was corrected: the shift that started "tomorrow" is replaced by one that
starts now, the agent is told once in the message bar, and today's log shows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assistant.core import shifts
from assistant.ui.handover.handover_tab import HandoverTab


def test_the_tab_replaces_a_shift_from_the_future_and_tells_once(worker, store, qtbot):
    future = shifts.start_shift(store, now=datetime.now(timezone.utc) + timedelta(days=1))[0]
    messages: list[tuple[str, str, str]] = []
    tab = HandoverTab(worker)
    qtbot.addWidget(tab)
    tab.messages.message.connect(lambda m: messages.append((m.zh, m.en, m.level)))
    with qtbot.waitSignal(tab.refreshed, timeout=10000):
        tab.show()
    current = shifts.current_shift(store)
    assert current.id != future.id and current.started_at <= datetime.now(timezone.utc)
    assert shifts.get_shift(store, future.id).ended_how == "auto"
    assert [m[2] for m in messages] == ["warning"] and "时钟" in messages[0][0] and "clock" in messages[0][1]
    assert "-" not in tab.shift_meta.text(), "no negative 'open for' time"
    with qtbot.waitSignal(tab.refreshed, timeout=10000):
        tab.refresh(ensure=True)
    assert len(messages) == 1, "told once"
