"""Requests whose bytes are built once. python-xlib packs every request field by field (tens of
microseconds each on a slow machine); the hotkey path sends the same few requests every time, so
their bytes are kept. They still go through python-xlib's queue, so serial numbers stay right."""

from __future__ import annotations

import struct
from typing import Any

from Xlib.protocol import request
from Xlib.support import lock


class RawRequest:
    """A request without a reply, from bytes built before. quiet: an X error it causes is
    expected (the window it names may be gone) and not passed to the display's handler."""

    __slots__ = ("_binary", "_serial", "_errorhandler", "_quiet")

    def __init__(self, binary: bytes, quiet: bool = False) -> None:
        self._binary = binary
        self._serial = None
        self._errorhandler = None
        self._quiet = quiet

    def _set_error(self, error: object) -> int:
        return 1 if self._quiet else 0


def send_raw(display: Any, binary: bytes, quiet: bool = False) -> None:
    """Queue prebuilt request bytes on a python-xlib Display (the next flush sends them)."""
    display.display.send_request(RawRequest(binary, quiet), False)


# Native byte order, as python-xlib announces to the server when it connects.
_CHANGE_PROPERTY = struct.Struct("=BBHIIIB3xI")
_SEND_EVENT = struct.Struct("=BBHII")
_SELECTION_NOTIFY = struct.Struct("=BxHIIIII8x")
_FORMAT_SIZE = {8: 1, 16: 2, 32: 4}


def change_property(window: int, prop: int, type_: int, fmt: int, data: bytes) -> bytes:
    """ChangeProperty (Replace) bytes; `data` already packed in `fmt`-bit units."""
    pad = (-len(data)) % 4
    length = (_CHANGE_PROPERTY.size + len(data) + pad) // 4
    return (_CHANGE_PROPERTY.pack(18, 0, length, window, prop, type_, fmt, len(data) // _FORMAT_SIZE[fmt])
            + data + b"\0" * pad)


def selection_notify(requestor: int, time: int, selection: int, target: int, prop: int) -> bytes:
    """SendEvent of a SelectionNotify to `requestor` (no event mask: straight to its owner)."""
    return (_SEND_EVENT.pack(25, 0, 11, requestor, 0)
            + _SELECTION_NOTIFY.pack(31, 0, time, requestor, selection, target, prop))


def _prebuilt_reply(cls: type) -> type:
    """`cls` (a ReplyRequest without fields) constructed from bytes packed once, never waited on
    at construction: collect the answer with reply()."""
    binary = cls._request.to_binary()

    class Prebuilt(cls):  # type: ignore[misc, valid-type]
        def __init__(self, display: Any) -> None:  # display: python-xlib's protocol Display
            self._display = display
            self._binary = binary
            self._serial = None
            self._data = None
            self._error = None
            self._response_lock = lock.allocate_lock()
            display.send_request(self, True)

    Prebuilt.__name__ = f"Prebuilt{cls.__name__}"
    return Prebuilt


GetInputFocus = _prebuilt_reply(request.GetInputFocus)
QueryKeymap = _prebuilt_reply(request.QueryKeymap)
