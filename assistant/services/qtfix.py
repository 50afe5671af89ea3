"""Guard against a reference-count bug of PySide6 6.12.0 on Python < 3.12.

In that release every `SignalInstance.emit()` called from Python drops one reference to `True`
that it never took (measured: 200 emits -> sys.getrefcount(True) 200 lower; 6.11.3 is clean). On
Python 3.11 `True` is an ordinary object, so a long-running panel — several emits per keystroke —
eventually frees it and aborts ("Fatal Python error: bool_dealloc"). Python 3.12+ makes True
immortal and is not affected.

The real fix is a PySide6 without the bug (pin PySide6-Essentials != 6.12.0). Until then
`guard()` probes for the leak once at start-up and, only if it is there, gives True, False and
None a reserve of references large enough never to run out. It changes nothing else.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

RESERVE = 1 << 40
PROBES = 32
_applied = False


class _Probe(QObject):
    fired = Signal(int)


def emit_leaks_true() -> bool:
    """True when emitting a signal from Python steals a reference to True."""
    probe = _Probe()
    before = sys.getrefcount(True)
    for n in range(PROBES):
        probe.fired.emit(n)
    after = sys.getrefcount(True)
    if after < before:
        # Give back what the probe itself took.
        for _ in range(before - after):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
    return before - after >= PROBES // 2


def guard() -> bool:
    """Apply the reserve if this PySide6 leaks; returns whether it did."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _applied
    if not emit_leaks_true():
        return False
    for obj in (True, False, None):
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE
    _applied = True
    import PySide6

    log.warning("PySide6 %s drops references to True on every signal emit; applied a reference reserve "
                "(upgrade or pin PySide6-Essentials to a release without this bug)", PySide6.__version__)
    return True
