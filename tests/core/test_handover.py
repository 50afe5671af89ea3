"""Handover export and import (core/handover/): golden files of the JSON and of the report's
structure, the XLSX read back with openpyxl, masking and injection, the round trip into a fresh store
whose reminders then fire, idempotence, conflicts, malformed files, and one real rendering of the
HTML in headless Chromium.

Golden files live in tests/core/golden/; rewrite them with KEFU_UPDATE_GOLDEN=1 after an intended
change and review the diff.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from assistant.core import customers, handover, reminders, replies, settings, shifts
from assistant.core.clock import FakeClock, to_db
from assistant.core.store import open_store
from assistant.errors import ImportFileError

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden")
UPDATE = os.environ.get("KEFU_UPDATE_GOLDEN") == "1"
CADENCE = {"id": "handover_test", "zh": "交接测试", "en": "handover test",
           "steps": [{"wait_minutes": 90}, {"wait_minutes": 120}]}
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVIL_NOTE = '=HYPERLINK("http://evil.example","点我") 订单号 2611101234567890 电话 13812345678 <img src=x onerror=alert(1)>'


def _scripts(store):
    product = replies.create_reply(store, body="面料是新疆长绒棉，亲肤透气", title="卖点-面料", group="催单", angle="product")
    price = replies.create_reply(store, body="今晚下单立减20元", title="价格-立减", group="催单", angle="price")
    return product, price


def scenario(store, clock) -> dict:
    """Shift A (agent 小美, Asia/Shanghai): three open buyers (one paid but still 售后中), one lost
    buyer that must not be handed over, a chase, pastes and two log entries."""
    settings.set(store, "agent.name", "小美")
    settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    reminders.save_cadence(store, CADENCE)
    shifts.start_shift(store)
    product, price = _scripts(store)
    greet = replies.create_reply(store, body="亲，在的，请问有什么可以帮您？", title="问候", group="售前")
    clock.advance(60)
    replies.record_use(store, greet.id)
    a = reminders.star(store, platform="千牛", shop="旗舰店", nickname="<b>小王</b>", marks=["高客单", "意向明显"],
                       notes=EVIL_NOTE, phone="13812345678", cadence="handover_test")
    b = reminders.star(store, platform="京东", shop="京东自营", nickname="李女士", marks=["咨询未付款"], notes="-想等降价",
                       cadence="handover_test")
    c = reminders.star(store, platform="拼多多", nickname="@张三", marks=["售后中"], notes="+收到货有划痕，已补偿5元",
                       cadence="handover_test")
    d = reminders.star(store, platform="千牛", shop="旗舰店", nickname="已流失买家", marks=["低客单"], cadence="handover_test")
    clock.advance(600)
    reminders.record_chase(store, a.id, product.id)
    replies.record_use(store, product.id)
    clock.advance(300)
    reminders.outcome(store, c.id, "paid")
    reminders.outcome(store, d.id, "lost")
    shifts.add_entry(store, "今日问题", "满减券和店铺券不能叠加，买家问了三次")
    shifts.add_entry(store, "顾客需求", "+黑色M码什么时候补货？订单 2611109876543210")
    clock.advance(600)
    return {"a": a, "b": b, "c": c, "d": d, "product": product, "price": price}


def normalise(doc: dict) -> dict:
    """uuids become <uuid-1>, <uuid-2>... in order of appearance; the app version is left out."""
    seen: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        return seen.setdefault(m.group(0), f"<uuid-{len(seen) + 1}>")

    text = UUID_RE.sub(repl, json.dumps(doc, ensure_ascii=False))
    out = json.loads(text)
    out["app_version"] = "<version>"
    return out


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {name} was missing and has been written; review it and run again")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (KEFU_UPDATE_GOLDEN=1 rewrites it)"


def snapshot(store) -> dict:
    tables = ["buyers", "buyer_marks", "buyer_mark_links", "chases", "reminders", "promotions", "buyer_events",
              "work_log", "handovers", "shifts", "settings", "cadences"]
    return {t: sorted((tuple(r.values()) for r in store.query(f"SELECT * FROM {t}")), key=repr) for t in tables}


@pytest.fixture
def exported(store, clock, tmp_path):
    ids = scenario(store, clock)
    result = handover.export_handover(store, tmp_path / "out")
    return store, ids, result


# ---------------------------------------------------------------- golden files

def test_json_golden(exported):
    _, _, result = exported
    doc = json.loads(result.files["json"].read_text(encoding="utf-8"))
    check_golden("handover.json", json.dumps(normalise(doc), ensure_ascii=False, indent=1) + "\n")


class _Outline(HTMLParser):
    """The report reduced to its structure: sections, headings, table headers and rows, charts."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.stack: list[str] = []
        self.text: list[str] = []
        self.row: list[str] | None = None
        self.capture = False
        self.svg_bars = 0
        self.svg_labels: list[str] = []
        self.in_svg_text = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("section", "header", "figure") and a.get("id"):
            self.lines.append(f"[{tag} #{a['id']}]")
        if tag in ("h1", "h2", "figcaption", "th", "td", "dt", "dd", "p"):
            self.capture, self.text = True, []
        if tag == "tr":
            self.row = []
        if tag == "svg":
            self.svg_bars, self.svg_labels = 0, []
            self.lines.append(f"  svg {a.get('class')} viewBox={a.get('viewbox')}")
        if tag == "rect" and a.get("class") == "bar":
            self.svg_bars += 1
        if tag == "text":
            self.in_svg_text, self.text = True, []
        if tag == "span" and self.capture:
            self.text.append({"count": " #", "mark": " · "}.get(a.get("class", ""), " "))
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
        content = " ".join("".join(self.text).split())
        if tag in ("h1", "h2", "figcaption", "dt", "dd", "p") and self.capture:
            self.lines.append(f"  {tag}: {content}")
            self.capture = False
        if tag in ("th", "td") and self.row is not None:
            self.row.append(content)
            self.capture = False
        if tag == "tr" and self.row is not None:
            self.lines.append("  | " + " | ".join(self.row))
            self.row = None
        if tag == "text" and self.in_svg_text:
            self.svg_labels.append(content)
            self.in_svg_text = False
        if tag == "svg":
            self.lines.append(f"    bars={self.svg_bars} labels={' '.join(self.svg_labels)}")

    def handle_data(self, data):
        if self.capture or self.in_svg_text:
            self.text.append(data)


def test_report_structure_golden(exported):
    _, _, result = exported
    page = result.files["html"].read_text(encoding="utf-8")
    outline = _Outline()
    outline.feed(page)
    text = "\n".join(outline.lines) + "\n"
    check_golden("handover_report.txt", UUID_RE.sub("<uuid>", text))


def test_html_is_escaped_and_self_contained(exported):
    _, _, result = exported
    page = result.files["html"].read_text(encoding="utf-8")
    assert "<b>小王</b>" not in page and "&lt;b&gt;小王&lt;/b&gt;" in page
    assert "<img" not in page and "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert not re.search(r'(src|href)\s*=\s*"?https?:', page), "no external resources"
    assert "@media print" in page and "size: A4" in page
    assert page.count("<svg") == 2
    # masked by default, in the HTML too
    assert "13812345678" not in page and "2611101234567890" not in page and "138****5678" in page


# ---------------------------------------------------------------- masking and the spreadsheet

def _all_text(result) -> dict[str, str]:
    out = {"json": result.files["json"].read_text(encoding="utf-8"),
           "html": result.files["html"].read_text(encoding="utf-8")}
    wb = openpyxl.load_workbook(result.files["xlsx"])
    out["xlsx"] = "\n".join(str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None)
    return out


def test_phones_and_order_numbers_masked_by_default(exported, tmp_path):
    store, _, result = exported
    for fmt, text in _all_text(result).items():
        for secret in ("13812345678", "2611101234567890", "2611109876543210"):
            assert secret not in text, (fmt, secret)
        assert "************7890" in text or fmt == "html"  # the order number keeps its last 4 digits
    full = handover.export_handover(store, tmp_path / "full", include_phones=True)
    for fmt, text in _all_text(full).items():
        assert "13812345678" in text and "2611101234567890" in text, fmt
    assert json.loads(full.files["json"].read_text(encoding="utf-8"))["phones_included"] is True
    assert "请妥善保管" in full.files["html"].read_text(encoding="utf-8")


@pytest.mark.parametrize("text,masked", [
    ("电话 13812345678", "电话 138****5678"),
    ("+86 138 1234 5678", "+86 138 **** 5678"),  # the layout stays (core/masking.py)
    ("订单号 2611101234567890 少发", "订单号 ************7890 少发"),
    ("拼多多 231111-123456789012345", "拼多多 ******-***********2345"),
    ("2026-11-11 10:00 发货，满199减20", "2026-11-11 10:00 发货，满199减20"),
    ("", ""),
])
def test_mask_text(text, masked):
    assert handover.mask_text(text) == masked


def test_xlsx_read_back(exported):
    store, ids, result = exported
    wb = openpyxl.load_workbook(result.files["xlsx"])
    assert wb.sheetnames == ["概况", "标星买家", "待催单", "售后未结", "工作日志", "常用回复", "催单角度", "每小时粘贴"]
    for ws in wb:
        assert ws.freeze_panes == "A2", ws.title
        assert all(c.font.b for c in ws[1]), ws.title  # bold header
    starred = wb["标星买家"]
    header = [c.value for c in starred[1]]
    rows = [dict(zip(header, (c.value for c in row))) for row in starred.iter_rows(min_row=2)]
    assert [r["买家"] for r in rows] == ["李女士", "<b>小王</b>"]  # by next reminder
    wang = rows[1]
    assert isinstance(wang["下次提醒"], datetime) and starred.cell(3, header.index("下次提醒") + 1).number_format \
        == "yyyy-mm-dd hh:mm"
    assert wang["下次提醒"] == datetime(2026, 11, 10, 16, 11)  # 08:11 UTC shown in the agent's zone
    assert isinstance(wang["催单次数"], int) and wang["催单次数"] == 1
    assert wang["电话"] == "138****5678"
    note = starred.cell(3, header.index("备注") + 1)
    # neutralised: the text as written, with the quotePrefix style (no visible apostrophe), never a formula
    assert note.value.startswith("=HYPERLINK(") and note.quotePrefix and note.data_type == "s"
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    assert starred.auto_filter.ref == f"A1:P{len(rows) + 1}"
    widths = {k: v.width for k, v in starred.column_dimensions.items()}
    assert widths["A"] >= 12 and widths["H"] > widths["B"]  # the notes column is wider than the platform
    after = wb["售后未结"]
    assert [c.value for c in after[2]][:4] == ["@张三", "拼多多", None, "已付款"]  # @ neutralised too
    assert after.cell(2, 1).quotePrefix and not after.cell(2, 2).quotePrefix
    assert after.cell(2, 7).value == "+收到货有划痕，已补偿5元" and after.cell(2, 7).quotePrefix
    log = wb["工作日志"]
    assert log.cell(3, 3).value.startswith("+黑色M码") and log.cell(3, 3).quotePrefix
    assert isinstance(log.cell(2, 1).value, datetime)
    quoted = [c for ws in wb for row in ws.iter_rows() for c in row if c.quotePrefix]
    assert quoted and all(isinstance(c.value, str) and c.value[:1] in "=+-@\t\r\n" for c in quoted)
    assert not [c for ws in wb for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value[:1] in "=+-@\t\r\n" and not c.quotePrefix]
    summary = {r[0].value: r[1] for r in wb["概况"].iter_rows(min_row=2)}
    assert summary["客服"].value == "小美"
    assert isinstance(summary["班次开始"].value, datetime)
    assert summary["催单（次）"].value == 1 and summary["催单转化率"].number_format == "0.0%"
    pending = wb["待催单"]
    due = [r[0].value for r in pending.iter_rows(min_row=2)]
    assert due == sorted(due) and len(due) == 2


# ---------------------------------------------------------------- export mechanics

def test_export_progress_end_shift_and_record(store, clock, tmp_path):
    scenario(store, clock)
    calls: list[tuple[int, int]] = []
    result = handover.export_handover(store, tmp_path / "new" / "folder", end_shift=True,
                                      progress=lambda d, t: calls.append((d, t)))
    assert set(result.files) == {"html", "xlsx", "json"} and all(p.exists() for p in result.files.values())
    assert calls[-1][0] == calls[-1][1] and [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert len({t for _, t in calls}) == 1
    assert result.shift is not None and not result.shift.open and result.shift.ended_how == "handover"
    assert shifts.current_shift(store) is None
    rec = store.query("SELECT direction, sha256, counts FROM handovers")
    assert rec[0]["direction"] == "out" and json.loads(rec[0]["counts"])["buyers"] == 3
    # a second export in the same minute gets its own names; formats can be chosen
    again = handover.export_handover(store, tmp_path / "new" / "folder", formats=["json"])
    assert set(again.files) == {"json"} and again.files["json"] != result.files["json"]
    assert not list((tmp_path / "new" / "folder").glob(".*")), "no temporary files left"


def test_export_rejects_unknown_format(store, tmp_path):
    with pytest.raises(Exception) as info:
        handover.export_handover(store, tmp_path, formats=["pdf"])
    assert "pdf" in str(info.value)


# ---------------------------------------------------------------- import

def test_round_trip_reminders_fire_in_the_next_shift(exported, tmp_path):
    a_store, ids, result = exported
    exported_at = a_store.clock.now()
    b_clock = FakeClock(exported_at + timedelta(minutes=20))
    b_store = open_store(tmp_path / "b.db", b_clock)
    try:
        settings.set(b_store, "reminders.agent_tz", "Asia/Shanghai")
        _scripts(b_store)  # the shop's shared chase scripts exist here too (other uuids)
        before = snapshot(b_store)
        plan = handover.preview_import(b_store, result.files["json"])
        assert snapshot(b_store) == before, "the preview writes nothing"
        assert (plan.buyers_added, plan.buyers_updated, plan.chases_added, plan.reminders_added, plan.log_added) \
            == (3, 0, 1, 2, 2)
        assert {i.nickname for i in plan.items} == {"<b>小王</b>", "李女士", "@张三"}
        assert plan.marks_created == [] and not plan.applied
        done = handover.apply_import(b_store, plan)
        assert done.applied and done.counts() == plan.counts()

        wang = customers.find_buyer(b_store, "<b>小王</b>")
        assert wang.marks == ["意向明显", "高客单"] and wang.starred and wang.starred_by == "小美"
        assert wang.phone_masked is None, "a masked phone number is not imported"
        history = customers.chase_history(b_store, wang.id)
        assert [(c.angle, c.reply_title) for c in history] == [("product", "卖点-面料")]
        assert history[0].reply_id is not None, "mapped to this store's copy of the script"
        # the next chase proposes a new angle and never the script already sent
        assert reminders.propose(b_store, wang.id).angle == "price"

        # nothing is due yet; the timer is armed for the imported reminders
        assert reminders.fire_due(b_store) == []
        expected = sorted(r["due_at"] for b in json.loads(result.files["json"].read_text("utf-8"))["buyers"]
                          for r in b["reminders"])
        first_due = reminders.next_due(b_store)
        assert to_db(first_due) == expected[0]
        b_clock.set(first_due)
        fired = reminders.fire_due(b_store)
        assert [f.nickname for f in fired] == ["李女士"] and not fired[0].missed
        b_clock.set(datetime.fromisoformat(expected[-1].replace("Z", "+00:00")) + timedelta(seconds=5))
        assert [f.nickname for f in reminders.fire_due(b_store)] == ["<b>小王</b>"]
        assert reminders.fire_due(b_store) == [], "each fires once"

        prev = shifts.last_imported_entries(b_store)
        assert [e.kind for e in prev] == ["problem", "request"] and prev[0].agent == "小美"
        assert shifts.entries(b_store) == [], "the previous shift's entries are not this shift's own"
    finally:
        b_store.close()


def test_importing_twice_changes_nothing(exported, tmp_path):
    _, _, result = exported
    b_store = open_store(tmp_path / "b.db", FakeClock(datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)))
    try:
        handover.import_handover(b_store, result.files["json"])
        before = snapshot(b_store)
        again = handover.import_handover(b_store, result.files["json"])
        assert not again.has_changes and not again.applied
        assert again.buyers_unchanged == 3
        assert snapshot(b_store) == before
        assert "没有需要导入" in again.summary() and "Nothing to import" in again.summary("en")
    finally:
        b_store.close()


def test_conflicts_newer_record_wins_and_the_older_note_is_kept(store, clock, tmp_path):
    b_clock = FakeClock(clock.now() - timedelta(hours=5))
    b_store = open_store(tmp_path / "b.db", b_clock)
    try:
        settings.set(b_store, "reminders.agent_tz", "Asia/Shanghai")
        reminders.save_cadence(b_store, CADENCE)
        # B knew 李女士 from an earlier shift (older record) and 老顾客 with a newer note
        reminders.star(b_store, platform="京东", shop="京东自营", nickname="李女士", notes="上周问过尺码",
                       cadence="handover_test")
        ids = scenario(store, clock)
        old = reminders.star(b_store, platform="拼多多", nickname="@张三", notes="本机备注：买家要求换货",
                             cadence="handover_test")
        b_clock.set(clock.now() + timedelta(hours=1))
        customers.update_buyer(b_store, old.id, notes="本机最新：已安排换货")  # newer than the file's record
        result = handover.export_handover(store, tmp_path / "out")

        plan = handover.import_handover(b_store, result.files["json"])
        by_nick = {i.nickname: i for i in plan.items}
        assert by_nick["李女士"].action == "update" and by_nick["李女士"].newer == "file"
        assert by_nick["李女士"].notes_merged and "notes" in by_nick["李女士"].fields
        assert by_nick["@张三"].newer == "local" and by_nick["@张三"].notes_merged
        li = customers.find_buyer(b_store, "李女士")
        assert li.notes.startswith("-想等降价\n\n【较早的备注 · 本机 · ") and li.notes.endswith("上周问过尺码")
        assert li.marks == ["咨询未付款"]
        assert li.updated_at == customers.find_buyer(store, "李女士").updated_at
        zhang = customers.find_buyer(b_store, "@张三")
        assert zhang.notes.startswith("本机最新：已安排换货\n\n【较早的备注 · 小美 · ")
        assert zhang.notes.endswith("+收到货有划痕，已补偿5元")
        assert zhang.state == "following", "the local (newer) record keeps its state"
        # B's own pending reminder for 李女士 was replaced by the file's schedule
        pending = reminders.buyer_reminders(b_store, li.id)
        assert [to_db(r.due_at) for r in pending] == [
            r["due_at"] for b in json.loads(result.files["json"].read_text("utf-8"))["buyers"]
            if b["nickname"] == "李女士" for r in b["reminders"]]
        before = snapshot(b_store)
        assert not handover.import_handover(b_store, result.files["json"]).has_changes
        assert snapshot(b_store) == before
        assert ids["a"].id  # the scenario ran in store A
    finally:
        b_store.close()


def test_promotions_and_wave_reminders_travel(store, clock, tmp_path):
    scenario(store, clock)
    promo = reminders.add_promotion(store, "双十一", clock.now() + timedelta(hours=6))
    assert promo.wave_total == 2
    result = handover.export_handover(store, tmp_path / "out", formats=["json"])
    b_store = open_store(tmp_path / "b.db", FakeClock(clock.now() + timedelta(minutes=30)))
    try:
        plan = handover.import_handover(b_store, result.files["json"])
        assert plan.promotions_added == ["双十一"]
        info = reminders.get_promotion(b_store, "双十一")
        assert info.wave_total == 2 and info.phone_at == promo.phone_at
        assert not handover.import_handover(b_store, result.files["json"]).has_changes
    finally:
        b_store.close()


def _valid_doc(result) -> dict:
    return json.loads(result.files["json"].read_text(encoding="utf-8"))


def _malformed(kind: str, result, path: Path) -> None:
    raw = result.files["json"].read_bytes()
    doc = _valid_doc(result)
    if kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not json":
        path.write_text("买家,备注\n小王,hi\n", encoding="utf-8")
    elif kind == "xlsx":
        shutil.copy(result.files["xlsx"], path)
    elif kind == "foreign":
        path.write_text(json.dumps({"format": "kefu-assistant.library", "version": 1, "groups": []}), encoding="utf-8")
    elif kind == "newer version":
        doc["version"] = 2
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "no version":
        del doc["version"]
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "wrong type":
        doc["buyers"][0]["starred"] = "yes"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "bad time":
        doc["buyers"][1]["reminders"][0]["due_at"] = "tomorrow"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "buyers not a list":
        doc["buyers"] = {"0": doc["buyers"][0]}
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "duplicate buyer":
        doc["buyers"].append(dict(doc["buyers"][0]))
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "unknown platform":
        doc["buyers"][0]["platform"] = "ebay"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    elif kind == "huge":
        with open(path, "wb") as fh:  # sparse: the size is checked before anything is read
            fh.write(raw[:100])
            fh.truncate(handover.MAX_FILE_BYTES + 1)
    else:
        raise AssertionError(kind)


MALFORMED = ["truncated", "empty", "not json", "xlsx", "foreign", "newer version", "no version", "wrong type",
             "bad time", "buyers not a list", "duplicate buyer", "unknown platform", "huge"]
REASONS = {"truncated": "truncated", "empty": "empty", "xlsx": "spreadsheet", "foreign": "not a handover file",
           "newer version": "version 2", "wrong type": "buyers[0].starred", "bad time": "buyers[1].reminders[0].due_at",
           "buyers not a list": "buyers", "duplicate buyer": "buyers[3]", "unknown platform": "buyers[0].platform",
           "huge": "too large"}


@pytest.mark.parametrize("kind", MALFORMED)
def test_malformed_files_are_rejected_with_nothing_written(exported, tmp_path, kind):
    _, _, result = exported
    bad = tmp_path / f"bad-{kind.replace(' ', '_')}.json"
    _malformed(kind, result, bad)
    b_store = open_store(tmp_path / "b.db", FakeClock(datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)))
    try:
        reminders.star(b_store, platform="京东", shop="京东自营", nickname="李女士", notes="本机")
        before = snapshot(b_store)
        with pytest.raises(ImportFileError) as info:
            handover.import_handover(b_store, bad)
        err = info.value
        assert err.zh.startswith("交接文件无法导入") and "未做任何改动" in err.zh
        assert "Nothing was changed" in err.en
        assert REASONS.get(kind, "") in err.en
        assert snapshot(b_store) == before
    finally:
        b_store.close()


def test_import_is_all_or_nothing(exported, tmp_path, monkeypatch):
    _, _, result = exported
    b_store = open_store(tmp_path / "b.db", FakeClock(datetime(2026, 11, 10, 8, 0, tzinfo=timezone.utc)))
    try:
        before = snapshot(b_store)

        def boom(self, handover_id):
            raise RuntimeError("disk pulled out")

        monkeypatch.setattr(handover._Merge, "write_log", boom)
        with pytest.raises(RuntimeError):
            handover.import_handover(b_store, result.files["json"])
        assert snapshot(b_store) == before
    finally:
        b_store.close()


def test_no_buyer_data_in_the_log(store, clock, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    scenario(store, clock)
    result = handover.export_handover(store, tmp_path / "out", include_phones=True)
    b_store = open_store(tmp_path / "b.db", FakeClock(clock.now()))
    try:
        handover.import_handover(b_store, result.files["json"])
    finally:
        b_store.close()
    for secret in ("小王", "李女士", "张三", "13812345678", "HYPERLINK", "想等降价", "满减券"):
        assert secret not in caplog.text


# ---------------------------------------------------------------- rendering in a real browser

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _png_rows(path: Path) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA non-interlaced PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, [], 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    n = stride
    low = int.from_bytes(b"\x7f" * n, "big")
    high = int.from_bytes(b"\x80" * n, "big")

    def add(a: int, b: int) -> int:  # bytewise a + b mod 256, on whole rows at once
        return ((a & low) + (b & low)) ^ ((a ^ b) & high)

    rows, prev = [], bytes(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if f == 0:
            cur = line
        elif f == 2:
            cur = add(int.from_bytes(line, "big"), int.from_bytes(prev, "big")).to_bytes(n, "big")
        elif f == 1:
            acc, shift = int.from_bytes(line, "big"), bpp
            while shift < n:
                acc = add(acc, acc >> (8 * shift))
                shift *= 2
            cur = acc.to_bytes(n, "big")
        else:
            out = bytearray(line)
            for i in range(n):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if f == 3:
                    out[i] = (out[i] + ((left + up) >> 1)) & 255
                else:
                    ul = prev[i - bpp] if i >= bpp else 0
                    p = left + up - ul
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    out[i] = (out[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else ul)) & 255
            cur = bytes(out)
        rows.append(cur)
        prev = cur
    return width, height, bpp, rows


def test_report_renders_in_headless_chromium(store, clock, tmp_path):
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed (bash .ci/install installs it); CI must render the report")
        pytest.skip("chromium is not installed")
    scenario(store, clock)
    greet = replies.list_replies(store, "售前")[0]
    start = shifts.current_shift(store).started_at
    for minutes in (30, 35, 70, 75, 80, 130, 135, 140, 145):  # pastes over three hours: three bars
        clock.set(start + timedelta(minutes=minutes))
        replies.record_use(store, greet.id)
    result = handover.export_handover(store, tmp_path / "out", formats=["html"])
    artifacts = ROOT / "artifacts"
    artifacts.mkdir(exist_ok=True)
    png = artifacts / "handover_report.png"
    png.unlink(missing_ok=True)
    profile = tmp_path / "chromium-profile"
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", f"--screenshot={png}", "--window-size=1240,1754", "--hide-scrollbars",
           result.files["html"].resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert png.exists() and png.stat().st_size > 10_000, proc.stderr[-2000:]
    width, height, bpp, rows = _png_rows(png)
    assert (width, height) == (1240, 1754)
    ink = sum(len(r) - r.count(255) for r in rows) / (width * height * bpp)
    assert ink > 0.02, f"the page looks blank ({ink:.3%} non-white)"
    blue = b"\x25\x63\xeb" + (b"\xff" if bpp == 4 else b"")
    bar_pixels = sum(r.count(blue) for r in rows)
    assert bar_pixels > 2000, f"the charts' bars are missing ({bar_pixels} bar-coloured pixels)"


def test_cli_shift_log_export_import_kpi(tmp_path, capsys):
    from assistant import cli

    def kefu(data: str, *args: str) -> tuple[int, str, str]:
        code = cli.main(["--data-dir", str(tmp_path / data), *args])
        out, err = capsys.readouterr()
        return code, out, err

    assert kefu("a", "settings", "set", "agent.name", "小美")[0] == 0
    code, out, _ = kefu("a", "shift", "start", "--json")
    assert code == 0 and json.loads(out)["started"] is True and json.loads(out)["agent"] == "小美"
    assert kefu("a", "log", "add", "--kind", "今日问题", "满减券", "不能叠加")[0] == 0
    assert kefu("a", "buyers", "star", "小王", "--platform", "千牛", "--mark", "高客单", "--phone", "13812345678")[0] == 0
    code, out, _ = kefu("a", "log", "list", "--json")
    assert code == 0 and [i["kind"] for i in json.loads(out)][:2] == ["starred", "problem"]
    code, out, _ = kefu("a", "kpi", "--json")
    assert code == 0 and json.loads(out)["starred"] == 1
    code, out, _ = kefu("a", "handover", "export", "--dir", str(tmp_path / "out"), "--end-shift", "--json")
    files = json.loads(out)["files"]
    assert code == 0 and set(files) == {"html", "xlsx", "json"} and json.loads(out)["shift"]["open"] is False
    assert "13812345678" not in Path(files["json"]).read_text(encoding="utf-8")
    code, out, _ = kefu("b", "handover", "import", files["json"], "--dry-run")
    assert code == 0 and "将导入" in out and "小王" in out
    code, out, _ = kefu("b", "handover", "import", files["json"], "--dry-run")
    assert "将导入" in out, "the dry run wrote nothing"
    code, out, _ = kefu("b", "handover", "import", files["json"])
    assert code == 0 and "已导入" in out
    code, out, _ = kefu("b", "handover", "import", files["json"])
    assert code == 0 and "没有需要导入" in out
    code, out, _ = kefu("b", "log", "list", "--previous", "--json")
    assert [i["subject"] for i in json.loads(out)] == ["满减券 不能叠加"]
    (tmp_path / "v2.json").write_text('{"format": "kefu-assistant.handover", "version": 2}', encoding="utf-8")
    code, _, err = kefu("b", "handover", "import", str(tmp_path / "v2.json"))
    assert code == 5 and "version 2" in err and "版本 2" in err
    assert kefu("a", "shift", "end")[0] == 2, "no shift is open any more"
