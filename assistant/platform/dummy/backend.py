"""No global hotkeys (Wayland, macOS, a machine without an X display, or hotkeys switched off).

The panel still works: its own Enter copies the reply and says "已复制，请按 Ctrl+V". Nothing here
sends keys or looks at other windows, so the controller never tries to paste by itself.
"""

from __future__ import annotations

from collections.abc import Callable

from ..base import Backend, Capabilities, HotkeyBackend

COPIED_ZH = "已复制，请按 Ctrl+V"
COPIED_EN = "Copied; press Ctrl+V"


class DummyHotkeys(HotkeyBackend):
    def __init__(self) -> None:
        self._callback: Callable[[str], None] | None = None
        self._registered: dict[str, str] = {}

    def set_callback(self, on_activated: Callable[[str], None]) -> None:
        self._callback = on_activated

    def register(self, hotkey: str, action_id: str) -> None:
        # Remembered (so `registered()` reports what WOULD be active) but nothing is grabbed.
        self._registered[action_id] = hotkey

    def unregister(self, action_id: str) -> None:
        self._registered.pop(action_id, None)

    def unregister_all(self) -> None:
        self._registered.clear()

    def registered(self) -> dict[str, str]:
        return {}

    def close(self) -> None:
        self._registered.clear()

    def trigger(self, action_id: str) -> None:
        """For tests: behave as if the hotkey was pressed."""
        if self._callback is not None:
            self._callback(action_id)


def create(reason: str) -> Backend:
    caps = Capabilities(global_hotkeys=False, send_keys=False, release_modifiers=False, name="dummy",
                        notes=("复制后请按 Ctrl+V 粘贴 / copy, then press Ctrl+V",))
    return Backend("dummy", reason, DummyHotkeys(), None, None, caps)
