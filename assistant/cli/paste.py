"""`kefu paste CODE`: render a reply, put it on the clipboard with pyperclip, count the use.

For a desktop shortcut or a launcher on systems without global hotkeys (Wayland). No Qt import:
the CLI starts fast and works with no display server at all. pyperclip is fine here (it is its own
process, not the Qt thread that owns the clipboard, see design.md).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from ..core import replies
from ..core.store import Store
from ..errors import KnownError, ValidationError
from .out import out, parse_pairs

if TYPE_CHECKING:
    from .main import Ctx

log = logging.getLogger(__name__)


class ClipboardUnavailable(KnownError):
    exit_code = 6


@contextlib.contextmanager
def _std_fds_to_devnull():
    """xclip/xsel/wl-copy stay in the background to serve the clipboard, holding whatever
    stdout/stderr they inherited: a caller reading our output (a launcher, a script,
    subprocess.run(capture_output=True)) would wait for them forever. Give them /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _copy(text: str) -> None:
    import pyperclip

    try:
        if os.name == "posix":
            with _std_fds_to_devnull():
                pyperclip.copy(text)
        else:
            pyperclip.copy(text)
    except pyperclip.PyperclipException as exc:
        raise ClipboardUnavailable(
            "无法访问剪贴板：Linux 上请安装 xclip、xsel 或 wl-clipboard（Wayland）",
            f"Cannot reach the clipboard; on Linux install xclip, xsel or wl-clipboard (Wayland): {exc}",
        ) from exc


def paste_from_cli(store: Store, ref: str | int, values: dict[str, str] | None = None,
                   copy=_copy) -> str:
    """Copy reply `ref` (id, uuid or short code) with fill-in `values`; record the use.
    Returns the message to print. Missing fill-in fields are an error naming them (a desktop
    shortcut cannot ask), pass them as values={"客户": "小王"}."""
    reply = replies.get_reply(store, ref)
    rendered = replies.render_for_paste(store, reply.id, values or {})
    if rendered.missing:
        names = "、".join(rendered.missing)
        flags = " ".join(f"--set {name}=…" for name in rendered.missing)
        raise ValidationError(f"回复“{reply.title}”需要填写：{names}（用 {flags}）",
                              f"Reply '{reply.title}' needs values for: {', '.join(rendered.missing)} ({flags})",
                              field="values")
    copy(rendered.text)
    replies.record_use(store, reply.id, via="cli")
    log.info("cli paste: reply %d copied (%d chars)", reply.id, len(rendered.text))
    return "已复制，请按 Ctrl+V / Copied, press Ctrl+V"


def cmd_paste(ctx: Ctx) -> int:
    values = dict(parse_pairs(ctx.args.set or []))
    message = paste_from_cli(ctx.store, ctx.args.ref, values)
    out(message)
    return 0


def register(sub: Any, add: Any) -> None:
    """Called by assistant/cli/main.py build_parser: adds paste."""
    p = add(sub, "paste", cmd_paste, "copy a reply for pasting (for desktop shortcuts) / 复制回复以粘贴")
    p.add_argument("ref", metavar="CODE")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE")
