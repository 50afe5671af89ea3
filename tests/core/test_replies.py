import pytest

from assistant.core import replies, settings
from assistant.errors import NotFoundError, ValidationError


def test_create_and_fetch_by_id_uuid_code(store):
    r = replies.create_reply(store, body="亲，在的呢～有什么可以帮您？", group="售前/问候", code="HY1",
                             platforms=["taobao", "JD"], hotkey="ctrl+alt+1")
    assert r.title == "亲，在的呢～有什么可以帮您？"[:20]
    assert r.group_path == "售前/问候"
    assert r.platforms == ["taobao", "jd"]
    assert r.hotkey == "Ctrl+Alt+1"
    for ref in (r.id, str(r.id), r.uuid, r.uuid[:8], "hy1"):
        assert replies.get_reply(store, ref).id == r.id


def test_codes_and_hotkeys_are_unique(store):
    replies.create_reply(store, body="a", code="kd", hotkey="Ctrl+Alt+2", title="快递")
    with pytest.raises(ValidationError) as info:
        replies.create_reply(store, body="b", code="KD")
    assert info.value.field == "code" and "快递" in info.value.zh
    with pytest.raises(ValidationError) as info:
        replies.create_reply(store, body="b", hotkey="alt+ctrl+2")
    assert info.value.field == "hotkey" and "快递" in info.value.zh


def test_hotkey_of_a_global_action_is_refused(store):
    action_key = settings.get(store, "hotkeys.actions")["focus_search"]
    with pytest.raises(ValidationError) as info:
        replies.create_reply(store, body="b", hotkey=action_key)
    assert "全局操作" in info.value.zh


def test_unknown_field_rejected_on_save_and_nothing_written(store):
    with pytest.raises(ValidationError) as info:
        replies.create_reply(store, body="您的{运单号}已发出", group="新分组")
    assert "{运单号}" in info.value.zh
    assert replies.count_replies(store) == 0
    assert replies.list_groups(store) == []


def test_update_changes_fields_and_timestamp(store, clock):
    r = replies.create_reply(store, body="旧内容", code="x1")
    clock.advance(60)
    r2 = replies.update_reply(store, r.id, body="新内容{客户}", group="售后/安抚", code="", angle="gift")
    assert (r2.body, r2.group_path, r2.code, r2.angle) == ("新内容{客户}", "售后/安抚", None, "gift")
    assert r2.updated_at > r.updated_at and r2.created_at == r.created_at
    assert r2.fields == ["客户"]


def test_invalid_values_name_their_field(store):
    r = replies.create_reply(store, body="内容")
    cases = {"code": "有 空格", "language": "中文", "angle": "haggle", "platforms": ["淘 宝"], "body": "  "}
    for fieldname, value in cases.items():
        with pytest.raises(ValidationError) as info:
            replies.update_reply(store, r.id, **{fieldname: value})
        assert info.value.field == fieldname


def test_delete_and_undo_restores_everything(store, clock):
    r = replies.create_reply(store, body="可撤销", code="cx", hotkey="Ctrl+Alt+3", group="A/B")
    replies.record_use(store, r.id)
    used = replies.get_reply(store, r.id)
    gone = replies.delete_reply(store, r.id)
    with pytest.raises(NotFoundError):
        replies.get_reply(store, "cx")
    back = replies.restore_reply(store, gone)
    assert (back.uuid, back.code, back.hotkey, back.use_count, back.last_used_at, back.group_path) == \
        (used.uuid, "cx", "Ctrl+Alt+3", 1, used.last_used_at, "A/B")


def test_record_use_counts_and_logs(store, clock):
    r = replies.create_reply(store, body="x")
    replies.record_use(store, r.id, via="hotkey")
    clock.advance(5)
    r2 = replies.record_use(store, r.id)
    assert r2.use_count == 2
    uses = store.query("SELECT via FROM reply_uses WHERE reply_id = ? ORDER BY id", (r.id,))
    assert [u["via"] for u in uses] == ["hotkey", "panel"]
    assert [x.id for x in replies.list_replies(store, order="used")] == [r.id]


def test_groups_nest_one_level_and_names_are_unique(store):
    top = replies.create_group(store, "售前")
    child = replies.create_group(store, "问候", parent="售前")
    assert child.path == "售前/问候" and child.parent_id == top.id
    with pytest.raises(ValidationError):
        replies.create_group(store, "更深", parent="售前/问候")
    with pytest.raises(ValidationError):
        replies.create_group(store, "售前")
    with pytest.raises(ValidationError):
        replies.create_group(store, "a/b")
    replies.create_group(store, "售后")
    replies.create_group(store, "问候", parent="售后")  # same name under another parent is fine
    with pytest.raises(ValidationError) as info:
        replies.get_group(store, "问候")  # ambiguous without a path
    assert "售前/问候" in info.value.zh or "售后/问候" in info.value.zh
    assert replies.get_group(store, "售后/问候").parent_id != child.parent_id


def test_delete_group_refuses_nonempty_unless_moved(store):
    replies.create_reply(store, body="x", group="旧/子")
    with pytest.raises(ValidationError) as info:
        replies.delete_group(store, "旧")
    assert "1 条" in info.value.zh
    replies.create_group(store, "新")
    replies.delete_group(store, "旧", move_to="新")
    assert [g.path for g in replies.list_groups(store)] == ["新"]
    assert replies.list_replies(store)[0].group_path == "新"


def test_rename_group(store):
    replies.create_reply(store, body="x", group="售前/问候")
    replies.rename_group(store, "售前/问候", "打招呼")
    assert replies.list_replies(store)[0].group_path == "售前/打招呼"


def test_seed_defaults_once(store):
    added = replies.seed_defaults(store)
    assert added >= 80 + 24
    assert replies.seed_defaults(store) == 0
    # An agent who empties the library on purpose does not get it back on the next start.
    for r in replies.list_replies(store):
        replies.delete_reply(store, r.id)
    assert replies.seed_defaults(store) == 0


def test_render_for_paste(store):
    r = replies.create_reply(store, body="{客户}您好，{商品}已发{快递}")
    out = replies.render_for_paste(store, r.id, {"客户": "小王", "快递": "顺丰"})
    assert out.text == "小王您好，{商品}已发顺丰" and out.missing == ["商品"]
