"""Our JSON files: "kefu-assistant.replies" (every field) and "kefu-assistant.library" (groups of replies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import (
    ImportFileError,
    ValidationError,
)
from .. import checked, hotkeys, replies
from ..clock import to_db
from ..fileio import reading
from . import common
from .common import (
    _UUID_RE,
    JSON,
    JSON_FORMAT,
    JSON_VERSION,
    LIBRARY_FORMAT,
    MAX_COUNT,
    MAX_GROUP_NAME,
    ImportItem,
    _check_body,
    _check_code,
    _empty,
    _err,
    _fail,
    _FileData,
    _GroupSpec,
    _read_bytes,
)

_TYPE_NAMES = {str: ("文本", "a string"), int: ("整数", "an integer"), list: ("列表", "a list"),
               dict: ("对象", "an object")}


class _J:
    """Strict typed access to a JSON object, errors naming the path ("replies[3].title")."""

    def __init__(self, obj: Any, where: str, row: int | None) -> None:
        self.where = where
        self.row = row
        if not isinstance(obj, dict):
            raise self.fail("应为对象", "must be an object")
        self.obj = obj

    def fail(self, zh: str, en: str, key: str | None = None) -> ImportFileError:
        loc = f"{self.where}.{key}" if key else self.where
        return ImportFileError(f"{loc}：{zh}", f"{loc}: {en}", row=self.row)

    def get(self, key: str, typ: type, *, nullable: bool = False, required: bool = True, default: Any = None) -> Any:
        if key not in self.obj:
            if required:
                raise self.fail("缺少此项", "is missing", key)
            return default
        value = self.obj[key]
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, typ):
            zh, en = _TYPE_NAMES[typ]
            raise self.fail(f"应为{zh}{'或 null' if nullable else ''}", f"must be {en}{' or null' if nullable else ''}",
                            key)
        return value

    def uuid(self, key: str, *, nullable: bool = False) -> str | None:
        value = self.get(key, str, nullable=nullable)
        if value is not None and not _UUID_RE.match(value):
            raise self.fail(f"“{value[:40]}”不是有效的 UUID（小写，形如 8-4-4-4-12）",
                            f"'{value[:40]}' is not a valid lower-case UUID", key)
        return value

    def timestamp(self, key: str, *, nullable: bool = False) -> str | None:
        value = self.get(key, str, nullable=nullable)
        if value is None:
            return None
        try:
            return to_db(checked.parse_time(value))
        except ValueError:
            raise self.fail(f"“{value[:40]}”不是带时区的 ISO 8601 时间（年份 1–9999）",
                            f"'{value[:40]}' is not an ISO 8601 time with a time zone (years 1-9999)", key) from None


def _load_json(path: Path) -> Any:
    raw = _read_bytes(path)
    if not raw.strip():
        raise _empty()
    return reading.parse_json(reading.utf8_text(raw, _fail), _fail)


def _check_group_name(name: str, j: _J, key: str = "name") -> str:
    name = name.strip()
    if not name:
        raise j.fail("分组名不能为空", "a group name cannot be empty", key)
    if "/" in name:
        raise j.fail("分组名不能包含“/”", "a group name cannot contain '/'", key)
    if len(name) > MAX_GROUP_NAME:
        raise j.fail(f"分组名最多 {MAX_GROUP_NAME} 字", f"a group name has at most {MAX_GROUP_NAME} characters", key)
    return name


def _reply_fields(j: _J, *, strict: bool) -> dict[str, Any]:
    """Fields shared by both JSON formats. strict: every key must be present (our export)."""
    where_zh = where_en = j.where
    body = _check_body(j.get("body", str), where_zh, where_en, j.row)
    title = j.get("title", str, required=strict, default="")
    if "\x00" in title:
        raise j.fail("标题含有非法字符（NUL）", "the title contains a NUL character", "title")
    code = _check_code(j.get("code", str, nullable=True, required=strict), where_zh, where_en, j.row)
    language = j.get("language", str, required=strict, default="zh")
    if not replies.LANG_RE.match(language):
        raise j.fail(f"语言代码“{language[:20]}”无效", f"invalid language code '{language[:20]}'", "language")
    platforms = j.get("platforms", list, required=strict, default=[])
    clean: list[str] = []
    for tag in platforms:
        if not isinstance(tag, str) or not replies.PLATFORM_RE.match(tag.strip().lower()):
            raise j.fail(f"平台标签“{str(tag)[:30]}”无效", f"invalid platform tag '{str(tag)[:30]}'", "platforms")
        if tag.strip().lower() not in clean:
            clean.append(tag.strip().lower())
    angle = j.get("angle", str, nullable=True, required=strict)
    if angle is not None and angle not in replies.ANGLES:
        raise j.fail(f"催单角度“{angle[:20]}”无效，可选：{'、'.join(replies.ANGLES)}",
                     f"invalid chase angle '{angle[:20]}'; one of {', '.join(replies.ANGLES)}", "angle")
    return {"body": body, "title": title, "code": code, "language": language, "platforms": clean, "angle": angle}


def _parse_replies_json(data: dict, top: _J) -> _FileData:
    version = top.get("version", int)
    if version != JSON_VERSION:
        raise top.fail(f"不支持的版本 {version}（本软件只认识版本 {JSON_VERSION}，请升级软件）",
                       f"unsupported version {version} (this app reads version {JSON_VERSION}; update the app)",
                       "version")
    top.timestamp("exported_at")
    groups_raw = top.get("groups", list)
    replies_raw = top.get("replies", list)
    if len(replies_raw) > common.MAX_ROWS:
        raise _err(f"文件超过 {common.MAX_ROWS} 条快捷短语，请分成几个文件导入",
                   f"The file holds more than {common.MAX_ROWS} replies; split it into several files")
    specs: dict[str, _GroupSpec] = {}
    parents: dict[str, str | None] = {}
    names: set[tuple[str | None, str]] = set()
    for i, g in enumerate(groups_raw):
        j = _J(g, f"groups[{i}]", None)
        gid = j.uuid("uuid")
        assert gid is not None
        if gid in specs:
            raise j.fail(f"分组 ID {gid} 重复", f"duplicate group id {gid}", "uuid")
        name = _check_group_name(j.get("name", str), j)
        parent = j.uuid("parent", nullable=True)
        position = j.get("position", int)
        if not -MAX_COUNT <= position <= MAX_COUNT:
            raise j.fail(f"应在 {-MAX_COUNT} 到 {MAX_COUNT} 之间", f"must be from {-MAX_COUNT} to {MAX_COUNT}", "position")
        if (parent, name) in names:
            raise j.fail(f"同一层中有两个名为“{name}”的分组", f"two groups named '{name}' at the same level", "name")
        names.add((parent, name))
        specs[gid] = _GroupSpec(key=gid, name=name, parent=parent, uuid=gid, position=position)
        parents[gid] = parent
    for i, spec in enumerate(specs.values()):
        if spec.parent is None:
            continue
        j = _J({}, f"groups[{i}]", None)
        if spec.parent not in specs:
            raise j.fail(f"上级分组 {spec.parent} 不在文件中", f"parent group {spec.parent} is not in the file", "parent")
        if parents[spec.parent] is not None:
            raise j.fail("分组最多两层：上级分组本身也是子分组", "groups nest one level only: the parent is a sub-group",
                         "parent")
    ordered = sorted(specs.values(), key=lambda s: (s.parent is not None, s.position or 0))
    groups = {s.key: s for s in ordered}

    items: list[ImportItem] = []
    for i, r in enumerate(replies_raw):
        where = f"replies[{i}]"
        j = _J(r, where, i)
        reply_uuid = j.uuid("uuid")
        group = j.uuid("group")
        if group not in groups:
            raise j.fail(f"分组 {group} 不在文件的 groups 中", f"group {group} is not in the file's groups", "group")
        values = _reply_fields(j, strict=True)
        hotkey = j.get("hotkey", str, nullable=True)
        if hotkey is not None and hotkey.strip():
            try:
                hotkey = hotkeys.normalize(hotkey)
            except ValidationError as exc:
                raise ImportFileError(f"{where}：{exc.zh}", f"{where}: {exc.en}", row=i) from exc
        else:
            hotkey = None
        position = j.get("position", int)
        if not -MAX_COUNT <= position <= MAX_COUNT:
            raise j.fail(f"应在 {-MAX_COUNT} 到 {MAX_COUNT} 之间", f"must be from {-MAX_COUNT} to {MAX_COUNT}", "position")
        use_count = j.get("use_count", int)
        if use_count < 0:
            raise j.fail("不能为负数", "cannot be negative", "use_count")
        if use_count > MAX_COUNT:
            raise j.fail(f"应在 0 到 {MAX_COUNT} 之间", f"must be from 0 to {MAX_COUNT}", "use_count")
        items.append(ImportItem(
            row=i, where_zh=where, where_en=where, group_path="", title=values["title"] or replies.derived_title(values["body"]),
            code=values["code"], body=values["body"], uuid=reply_uuid, language=values["language"],
            platforms=values["platforms"], hotkey=hotkey, angle=values["angle"], position=position,
            created_at=j.timestamp("created_at"), updated_at=j.timestamp("updated_at"), use_count=use_count,
            last_used_at=j.timestamp("last_used_at", nullable=True), group_key=group or "", title_given=True))
    if not items:
        raise _empty()
    return _FileData(JSON, "json", groups, items)


def _parse_library_json(data: dict, top: _J) -> _FileData:
    version = top.get("version", int)
    if version != JSON_VERSION:
        raise top.fail(f"不支持的版本 {version}", f"unsupported version {version}", "version")
    groups: dict[str, _GroupSpec] = {}
    items: list[ImportItem] = []

    def read_replies(j: _J, key: str, path: str) -> None:
        for k, r in enumerate(j.get("replies", list, required=False, default=[])):
            where = f"{j.where}.replies[{k}]"
            rj = _J(r, where, len(items))
            values = _reply_fields(rj, strict=False)
            if len(items) >= common.MAX_ROWS:
                raise _err(f"文件超过 {common.MAX_ROWS} 条快捷短语", f"The file holds more than {common.MAX_ROWS} replies")
            items.append(ImportItem(
                row=len(items), where_zh=where, where_en=where, group_path=path,
                title=values["title"].strip() or replies.derived_title(values["body"]), code=values["code"],
                body=values["body"], language=values["language"], platforms=values["platforms"],
                angle=values["angle"], group_key=key, title_given=bool(values["title"].strip())))

    for i, g in enumerate(top.get("groups", list)):
        gj = _J(g, f"groups[{i}]", None)
        name = _check_group_name(gj.get("name", str), gj)
        key = "l:" + name
        if key in groups:
            raise gj.fail(f"有两个名为“{name}”的分组", f"two groups named '{name}'", "name")
        groups[key] = _GroupSpec(key=key, name=name)
        read_replies(gj, key, name)
        for c, child in enumerate(gj.get("children", list, required=False, default=[])):
            cj = _J(child, f"groups[{i}].children[{c}]", None)
            cname = _check_group_name(cj.get("name", str), cj)
            ckey = f"l:{name}/{cname}"
            if ckey in groups:
                raise cj.fail(f"有两个名为“{cname}”的子分组", f"two sub-groups named '{cname}'", "name")
            groups[ckey] = _GroupSpec(key=ckey, name=cname, parent=key)
            read_replies(cj, ckey, f"{name}/{cname}")
    if not items:
        raise _empty()
    return _FileData(JSON, "library", groups, items)


def _parse_json(path: Path) -> _FileData:
    data = _load_json(path)
    if not isinstance(data, dict):
        raise _err("JSON 文件的最外层应为对象 {…}，不是本软件导出的快捷短语文件",
                   "The JSON's top level must be an object {…}; not a kefu-assistant replies file")
    top = _J(data, "$", None)
    kind = data.get("format")
    if kind == JSON_FORMAT:
        return _parse_replies_json(data, top)
    if kind == LIBRARY_FORMAT:
        return _parse_library_json(data, top)
    shown = str(kind)[:60] if kind is not None else "（无）"
    raise _err(f"不是本软件导出的快捷短语文件（format 为“{shown}”，应为“{JSON_FORMAT}”）",
               f"Not a kefu-assistant replies file (format is '{shown}', expected '{JSON_FORMAT}')")
