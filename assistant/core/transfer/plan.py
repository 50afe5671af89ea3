"""Planning an import: what will be added, replaced and skipped, and why."""

from __future__ import annotations

from pathlib import Path

from .. import replies
from ..fileio.progress import Ticker
from ..store import Store
from .common import ImportItem, ImportPlan, Progress, _FileData, _Target


def _body_key(body: str) -> str:
    return body.replace("\r\n", "\n").replace("\r", "\n").strip()


def _resolve_groups(store: Store | None, data: _FileData) -> dict[str, _Target]:
    existing = replies.list_groups(store) if store is not None else []
    by_uuid = {g.uuid: g for g in existing}
    by_id = {g.id: g for g in existing}
    top_by_name = {g.name: g for g in existing if g.parent_id is None}
    child_by_name = {(g.parent_id, g.name): g for g in existing if g.parent_id is not None}
    flat = {f"{by_id[g.parent_id].name}-{g.name}": g for g in existing
            if g.parent_id is not None and g.parent_id in by_id}
    out: dict[str, _Target] = {}
    for spec in data.groups.values():
        parent = out[spec.parent] if spec.parent else None
        g = by_uuid.get(spec.uuid) if spec.uuid else None
        if g is None:
            if parent is None:
                g = top_by_name.get(spec.name)
            elif parent.id is not None:
                g = child_by_name.get((parent.id, spec.name))
        if g is None and spec.flat:
            g = flat.get(spec.flat)
        if g is not None:
            out[spec.key] = _Target(g.id, g.uuid, g.path)
        else:
            out[spec.key] = _Target(None, spec.uuid, f"{parent.path}/{spec.name}" if parent else spec.name)
    return out


def _skip(plan: ImportPlan, item: ImportItem, zh: str, en: str, existing: replies.Reply | None = None) -> None:
    item.reason_zh, item.reason_en = zh, en
    item.existing = existing
    plan.skipped.append(item)


def _make_plan(store: Store | None, data: _FileData, path: Path, replace: bool,
               progress: Progress | None = None) -> tuple[ImportPlan, dict[str, _Target], set[str]]:
    """The plan, each file group's target, and the file groups the import needs (the rest is not created)."""
    targets = _resolve_groups(store, data)
    plan = ImportPlan(path=str(path), format=data.format, replace=replace, items=data.items)
    existing = replies.list_replies(store) if store is not None else []
    by_uuid = {r.uuid: r for r in existing}
    by_code = {r.code.lower(): r for r in existing if r.code}
    by_body: dict[tuple[int, str], replies.Reply] = {}
    for r in existing:
        by_body.setdefault((r.group_id, _body_key(r.body)), r)
    by_hotkey = {r.hotkey: r for r in existing if r.hotkey}
    file_uuids: dict[str, ImportItem] = {}
    file_codes: dict[str, ImportItem] = {}
    file_bodies: dict[tuple[str, str], ImportItem] = {}
    file_hotkeys: dict[str, ImportItem] = {}
    replaced: dict[int, ImportItem] = {}
    is_json = data.kind == "json"
    tick = Ticker(progress, len(data.items))
    tick(0)

    for n, item in enumerate(data.items, start=1):
        item.reason_zh = item.reason_en = item.warning_zh = item.warning_en = ""
        item.existing, item.hotkey_dropped = None, False
        target = targets[item.group_key]
        item.group_path = target.path
        code_key = item.code.lower() if item.code else None
        body_key = (item.group_key, _body_key(item.body))
        # 1. duplicates within the file (against rows already accepted)
        earlier = (file_uuids.get(item.uuid) if item.uuid else None) or \
            (file_codes.get(code_key) if code_key else None) or \
            (None if is_json else file_bodies.get(body_key))
        if earlier is not None:
            what_zh, what_en = ("ID", "id") if item.uuid and earlier.uuid == item.uuid else \
                ("短码", "short code") if code_key and earlier.code and earlier.code.lower() == code_key else \
                ("分组和内容", "group and text")
            _skip(plan, item, f"与文件中{earlier.where_zh}重复（{what_zh}相同）",
                  f"duplicate of {earlier.where_en} in the file (same {what_en})")
            tick(n)
            continue
        # 2. clashes with the library
        match, why = None, ""
        if item.uuid and item.uuid in by_uuid:
            match, why = by_uuid[item.uuid], "uuid"
        elif code_key and code_key in by_code:
            match, why = by_code[code_key], "code"
        elif target.id is not None and (target.id, body_key[1]) in by_body:
            match, why = by_body[(target.id, body_key[1])], "body"
        if match is not None:
            if why == "uuid":
                zh, en = f"库中已有同一条回复（ID 相同）：“{match.title}”", f"the library already holds this reply (same id): '{match.title}'"
            elif why == "code":
                zh, en = (f"短码“{item.code}”已被回复“{match.title}”使用",
                          f"short code '{item.code}' is already used by '{match.title}'")
            else:
                zh, en = (f"分组“{match.group_path}”中已有相同内容的回复“{match.title}”",
                          f"group '{match.group_path}' already holds the same text: '{match.title}'")
            if not replace:
                _skip(plan, item, zh, en, match)
                tick(n)
                continue
            if match.id in replaced:
                other = replaced[match.id]
                _skip(plan, item, f"{zh}；该回复已由{other.where_zh}替换", f"{en}; {other.where_en} already replaces it",
                      match)
                tick(n)
                continue
            holder = by_code.get(code_key) if code_key else None
            if holder is not None and holder.id != match.id:
                _skip(plan, item, f"{zh}；但短码“{item.code}”属于另一条回复“{holder.title}”，无法替换",
                      f"{en}; but short code '{item.code}' belongs to another reply '{holder.title}', cannot replace",
                      match)
                tick(n)
                continue
            item.reason_zh, item.reason_en, item.existing = f"将替换：{zh}", f"replaces: {en}", match
            replaced[match.id] = item
            plan.to_replace.append(item)
        else:
            plan.to_add.append(item)
        # 3. hotkeys (JSON only): a taken hotkey is dropped, the reply still imported
        if item.hotkey:
            owner_zh = owner_en = ""
            if item.hotkey in file_hotkeys:
                owner_zh, owner_en = file_hotkeys[item.hotkey].where_zh, file_hotkeys[item.hotkey].where_en
            else:
                holder = by_hotkey.get(item.hotkey)
                if holder is not None and (match is None or holder.id != match.id):
                    owner_zh, owner_en = f"回复：{holder.title}", f"reply: {holder.title}"
                elif holder is None and store is not None:
                    owner = replies.hotkey_owner(store, item.hotkey, exclude_reply=match.id if match else None)
                    if owner:
                        owner_zh, owner_en = owner
            if owner_zh:
                item.warning_zh = f"快捷键 {item.hotkey} 已被“{owner_zh}”使用，未导入该快捷键"
                item.warning_en = f"hotkey {item.hotkey} is already used by '{owner_en}'; imported without it"
                item.hotkey_dropped = True
                plan.warnings.append(item)
            else:
                file_hotkeys[item.hotkey] = item
        if item.uuid:
            file_uuids[item.uuid] = item
        if code_key:
            file_codes[code_key] = item
        file_bodies.setdefault(body_key, item)
        tick(n)
    if data.kind == "json":  # our export keeps empty groups too
        needed = set(data.groups)
    else:
        needed = {i.group_key for i in plan.to_add + plan.to_replace}
        needed |= {p for p in (data.groups[k].parent for k in needed) if p}
    plan.new_groups = [targets[k].path for k in data.groups if k in needed and targets[k].id is None]
    return plan, targets, needed
