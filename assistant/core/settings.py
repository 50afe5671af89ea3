"""Settings, declared once as data (name, type, default, description) and stored in the DB.

The settings dialog, `kefu doctor` and the backends all read this one table of declarations, so a
new setting is one entry here. Values are JSON in the settings table; unknown keys are kept (a newer
version's settings survive a downgrade) but never returned as declared settings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ValidationError
from . import hotkeys, zones
from .clock import to_db
from .store import Store


@dataclass(frozen=True)
class Setting:
    name: str
    type: str  # bool | int | str | choice | hotkey | json | time (HH:MM) | tz (IANA name, "" = this computer's)
    default: Any
    zh: str
    en: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


# Global actions and their default hotkeys. Ctrl+Alt chords: Ctrl+Space / Ctrl+Shift belong to the
# Chinese input methods, Ctrl+Alt+A/Z to QQ/WeChat screenshots and messages.
ACTIONS: dict[str, tuple[str, str, str]] = {
    # action: (default hotkey, zh label, en label)
    "focus_search": ("Ctrl+Alt+F", "聚焦搜索框", "Focus the search box"),
    "star_selection": ("Ctrl+Alt+X", "标星所选买家", "Star the selected buyer"),
    # 售后 (shòuhòu): the case of the buyer whose nickname is selected, or the form to open one
    "aftersales_selection": ("Ctrl+Alt+H", "为所选买家开售后单", "After-sales case for the selected buyer"),
    "suggest_selection": ("Ctrl+Alt+S", "按所选买家消息推荐回复", "Suggest replies for the selected message"),
    "next_chase": ("Ctrl+Alt+N", "粘贴下一条催单", "Paste the next chase script"),
    "add_selection": ("Ctrl+Alt+R", "将所选文字存为回复", "Save the selection as a reply"),
    "toggle_pause": ("Ctrl+Alt+P", "暂停/恢复全部快捷键", "Pause/resume all hotkeys"),
}

DECLARED: tuple[Setting, ...] = (
    Setting("ui.language", "choice", "zh_CN", "界面语言", "Interface language", choices=("zh_CN", "en")),
    Setting("ui.dock", "choice", "right", "停靠位置", "Dock position", choices=("right", "left", "attach", "free")),
    Setting("ui.attach_pattern", "str", "", "跟随窗口（标题或程序名包含）", "Attach to window (title or class contains)"),
    Setting("ui.width", "int", 360, "面板宽度（像素）", "Panel width (px)", minimum=260, maximum=1200),
    Setting("ui.always_on_top", "bool", True, "窗口置顶", "Always on top"),
    Setting("ui.geometry", "json", None, "窗口位置（自动保存）", "Window geometry (saved automatically)"),
    Setting("hotkeys.enabled", "bool", True, "启用全局快捷键", "Global hotkeys enabled"),
    Setting("hotkeys.actions", "json", {k: v[0] for k, v in ACTIONS.items()}, "全局操作快捷键",
            "Global action hotkeys"),
    Setting("paste.chord", "choice", "ctrl+v", "粘贴方式", "Paste method",
            choices=("ctrl+v", "shift+insert", "type")),
    Setting("paste.restore_delay_ms", "int", 300, "恢复剪贴板的延迟（毫秒）", "Clipboard restore delay (ms)",
            minimum=50, maximum=5000),
    Setting("paste.app_rules", "json", [], "按程序设置粘贴方式", "Per-application paste rules"),
    Setting("paste.focus_back", "bool", True, "粘贴后回到聊天窗口", "Return focus to the chat window after pasting"),
    # Linux: lists KDE's password hint with the pasted text, so clipboard managers that honour it
    # (Klipper, CopyQ) keep replies out of their history. Off by default: a Qt chat client looks
    # up every listed format name, one round trip each, before it asks for the text.
    Setting("paste.hide_from_history", "bool", False, "回复不进剪贴板历史（Linux，略慢）",
            "Keep replies out of clipboard history (Linux; slower)"),
    Setting("agent.name", "str", "", "客服昵称", "Agent name"),
    Setting("handover.dir", "str", "", "交接文件保存位置（空 = 文档文件夹）", "Handover folder (empty = Documents)"),
    Setting("backup.keep", "int", 10, "保留备份份数", "Backups to keep", minimum=1, maximum=200),
    Setting("backup.dir", "str", "", "备份文件夹（空 = 数据目录/backups）", "Backup folder (empty = data dir/backups)"),
    Setting("backup.interval_hours", "int", 24, "自动备份间隔（小时，0 = 关闭）", "Automatic backup every N hours (0 = off)",
            minimum=0, maximum=24 * 30),
    # Chase reminders (assistant/core/reminders.py reads them through get_config()).
    Setting("reminders.agent_tz", "tz", "", "客服所在时区（空 = 本机时区）", "Agent time zone (empty = this computer's)"),
    Setting("reminders.shift_start", "time", "09:00", "上班时间", "Shift starts"),
    Setting("reminders.shift_end", "time", "23:00", "下班时间", "Shift ends"),
    Setting("reminders.quiet_start", "time", "22:00", "买家休息开始（买家当地时间）", "Buyer quiet hours start (buyer's time)"),
    Setting("reminders.quiet_end", "time", "08:00", "买家休息结束（买家当地时间）", "Buyer quiet hours end (buyer's time)"),
    Setting("reminders.min_gap_minutes", "int", 2, "两次催单最短间隔（分钟）", "Warn when chases are closer than (min)",
            minimum=0, maximum=240),
    Setting("reminders.on_reply", "choice", "restart", "顾客回复后", "When the buyer replies",
            choices=("restart", "keep")),
    Setting("reminders.wave_per_minute", "int", 4, "大促催付每分钟人数", "Promotion wave: buyers per minute",
            minimum=1, maximum=60),
    Setting("reminders.missed_grace_seconds", "int", 60, "超过多少秒算错过提醒", "Later than this = missed (s)",
            minimum=5, maximum=3600),
    # An in-conversation cadence that ends without an outcome moves on to the quiet-period revisit
    # (its "then"); "stop" keeps the chase ending there.
    Setting("reminders.after_in_chat", "choice", "revisit", "对话内节奏结束后", "When an in-conversation cadence ends",
            choices=("revisit", "stop")),
    Setting("reminders.default_cadence", "choice", "auto", "标星默认节奏", "Default cadence when starring",
            choices=("auto", "in_chat", "revisit", "high_ticket", "low_ticket")),
    Setting("reminders.call_retry_minutes", "int", 30, "电话未接多久后再打（分钟）", "Call again after no answer (minutes)",
            minimum=5, maximum=600),
    # Unpaid orders (core/orders.py): how long a platform keeps an unpaid order open when the order
    # itself does not say (the order text's "剩余…自动关闭" or deadline always wins). Set them to what
    # your platform shows: a promotion item may close much sooner.
    Setting("orders.deadline_hours_taobao", "int", 72, "淘宝/天猫未付款订单多久关闭（小时）",
            "Taobao/Tmall: unpaid order closes after (hours)", minimum=1, maximum=720),
    Setting("orders.deadline_hours_jd", "int", 24, "京东未付款订单多久关闭（小时）", "JD: unpaid order closes after (hours)",
            minimum=1, maximum=720),
    Setting("orders.deadline_hours_pdd", "int", 24, "拼多多未付款订单多久关闭（小时）",
            "Pinduoduo: unpaid order closes after (hours)", minimum=1, maximum=720),
    Setting("orders.deadline_hours_other", "int", 24, "其他平台未付款订单多久关闭（小时）",
            "Other platforms: unpaid order closes after (hours)", minimum=1, maximum=720),
    Setting("reminders.snooze_minutes", "json", [5, 10, 30], "稍后提醒的分钟选项", "Snooze choices (minutes)"),
    Setting("reminders.sound", "bool", False, "提醒时播放提示音", "Play a sound with reminders"),
    # Review invites (assistant/core/invites.py): replies in a group whose name holds one of these.
    Setting("invites.group_words", "json", ["邀评", "评价", "review"], "邀评话术分组（名称包含）",
            "Review-invite groups (name contains)"),
    # Search (assistant/core/search.py): the shop's own synonym groups, on top of the shipped ones in
    # resources/search/query_words.json; read with every query (no reindex).
    Setting("search.synonyms", "json", [], "店铺同义词（每组意思相同的词）", "The shop's synonym groups"),
    # Team mode (assistant/team/connection.py, written by `kefu team connect`): where and as whom.
    # Plain text, never a password: that lives in the OS keyring only.
    Setting("team.server", "str", "", "团队服务器（空 = 仅本机）", "Team server (empty = local only)"),
    Setting("team.role", "str", "", "团队账号（登录角色）", "Team login role"),
    # What the server said the role is (refreshed at every sync): supervisors may edit the shop library.
    Setting("team.kind", "choice", "", "团队身份", "Team role kind", choices=("", "agent", "supervisor")),
    # The team's agents as the server listed them at the last sync: [[role, display name, active], ...]
    # (the 交班 receiver list, offline too).
    Setting("team.agents", "json", [], "团队成员", "Team members"),
)
BY_NAME = {s.name: s for s in DECLARED}


def _check(setting: Setting, value: Any) -> Any:
    def bad(zh: str, en: str) -> ValidationError:
        return ValidationError(f"设置“{setting.zh}”：{zh}", f"Setting '{setting.en}': {en}", field=setting.name)

    if setting.type == "bool":
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            value = value.lower() in ("true", "1", "yes", "on")
        if not isinstance(value, bool):
            raise bad("应为 是/否", "must be true or false")
    elif setting.type == "int":
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise bad("应为整数", "must be a whole number") from None
        if setting.minimum is not None and value < setting.minimum:
            raise bad(f"不能小于 {setting.minimum}", f"must be at least {setting.minimum}")
        if setting.maximum is not None and value > setting.maximum:
            raise bad(f"不能大于 {setting.maximum}", f"must be at most {setting.maximum}")
    elif setting.type == "choice":
        if value not in setting.choices:
            raise bad(f"可选值：{'、'.join(setting.choices)}", f"one of {', '.join(setting.choices)}")
    elif setting.type == "str":
        value = "" if value is None else str(value)
    elif setting.type == "time":
        try:
            value = zones.format_hhmm(zones.parse_hhmm(value))
        except ValidationError:
            shown = str(value)[:40]
            raise bad(f"“{shown}”无效，应写成 时:分，例如 09:00", f"invalid time '{shown}'; write HH:MM, e.g. 09:00") from None
    elif setting.type == "tz":
        try:
            value = zones.check_tz(value) or ""
        except ValidationError:
            raise bad(f"时区“{value}”无效，请用 IANA 名称，例如 America/New_York",
                      f"unknown time zone '{value}'; use an IANA name such as America/New_York") from None
    elif setting.type == "json":
        json.dumps(value)
        if setting.name == "hotkeys.actions":
            value = _check_actions(value)
        elif setting.name == "reminders.snooze_minutes":
            value = _check_minutes(value, bad)
        elif setting.name == "search.synonyms":
            value = _check_synonyms(value, bad)
    return value


def _check_minutes(value: Any, bad: Callable[[str, str], ValidationError]) -> list[int]:
    if not isinstance(value, list) or not value or not all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 24 * 60 for v in value):
        raise bad("应为分钟数列表，例如 [5, 10, 30]", "must be a list of minutes, e.g. [5, 10, 30]")
    return sorted({*value})  # not set(): this module defines set()


MAX_SYNONYM_GROUPS, MAX_SYNONYM_WORDS, MAX_SYNONYM_CHARS = 500, 20, 20


def _check_synonyms(value: Any, bad: Callable[[str, str], ValidationError]) -> list[list[str]]:
    """A list of groups, each 2+ distinct words of the trade meaning the same (退钱, 钱退)."""
    if not isinstance(value, list) or len(value) > MAX_SYNONYM_GROUPS:
        raise bad(f"应为词组列表（最多 {MAX_SYNONYM_GROUPS} 组）", f"must be a list of word groups (at most {MAX_SYNONYM_GROUPS})")
    out: list[list[str]] = []
    for group in value:
        if not isinstance(group, list) or not all(isinstance(w, str) for w in group):
            raise bad("每组应为词的列表", "each group must be a list of words")
        words = list(dict.fromkeys(w.strip() for w in group if w.strip()))
        if len(words) < 2 or len(words) > MAX_SYNONYM_WORDS:
            raise bad(f"每组应有 2 到 {MAX_SYNONYM_WORDS} 个不同的词", f"each group needs 2 to {MAX_SYNONYM_WORDS} different words")
        if any(len(w) > MAX_SYNONYM_CHARS or any(c in w for c in '"*:()') for w in words):
            raise bad(f"词不能超过 {MAX_SYNONYM_CHARS} 个字，也不能含引号、*、:、括号",
                      f"a word has at most {MAX_SYNONYM_CHARS} characters and no quotes, *, : or brackets")
        out.append(words)
    return out


def check_synonym_group(words: Any) -> list[str]:
    """One group of the shop's synonyms, checked as the setting checks each of its groups (team mode
    keeps a supervisor's groups on the server, outside the setting)."""
    return _check(BY_NAME["search.synonyms"], [list(words) if isinstance(words, (list, tuple)) else words])[0]


def _check_actions(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError("全局快捷键设置格式错误", "Global hotkeys must be a mapping", field="hotkeys.actions")
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for action, key in value.items():
        if action not in ACTIONS:
            raise ValidationError(f"未知的全局操作“{action}”", f"Unknown global action '{action}'",
                                  field="hotkeys.actions")
        if not key:
            out[action] = ""
            continue
        norm = hotkeys.normalize(key)
        if norm in seen:
            raise ValidationError(
                f"快捷键 {norm} 同时分配给了“{ACTIONS[seen[norm]][1]}”和“{ACTIONS[action][1]}”",
                f"Hotkey {norm} is given to both '{ACTIONS[seen[norm]][2]}' and '{ACTIONS[action][2]}'",
                field="hotkeys.actions")
        seen[norm] = action
        out[action] = norm
    return out


def get(store: Store, name: str) -> Any:
    setting = BY_NAME[name]
    rows = store.query("SELECT value FROM settings WHERE key = ?", (name,))
    if not rows:
        return setting.default
    try:
        return _check(setting, json.loads(rows[0]["value"]))
    except (ValueError, ValidationError):
        return setting.default  # a hand-edited bad value must not stop the app


def get_all(store: Store) -> dict[str, Any]:
    return {s.name: get(store, s.name) for s in DECLARED}


def set(store: Store, name: str, value: Any) -> Any:  # noqa: A001 - mirrors get()
    if name not in BY_NAME:
        raise ValidationError(f"没有名为“{name}”的设置", f"No setting named '{name}'")
    value = _check(BY_NAME[name], value)
    if name == "hotkeys.actions":
        for action, key in value.items():
            clash = store.query("SELECT title FROM replies WHERE hotkey = ?", (key,)) if key else []
            if clash:
                raise ValidationError(
                    f"快捷键 {key}（{ACTIONS[action][1]}）已被回复“{clash[0]['title']}”使用",
                    f"Hotkey {key} ({ACTIONS[action][2]}) is already used by reply '{clash[0]['title']}'",
                    field="hotkeys.actions")
    with store.write() as db:
        db.execute("INSERT INTO settings (key, value, updated_at) VALUES (?,?,?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                   (name, json.dumps(value, ensure_ascii=False), to_db(store.clock.now())))
    return value


def reset(store: Store, names: list[str] | None = None) -> None:
    """Restore defaults (all declared settings, or the named ones)."""
    targets = names or [s.name for s in DECLARED]
    with store.write() as db:
        for name in targets:
            db.execute("DELETE FROM settings WHERE key = ?", (name,))
