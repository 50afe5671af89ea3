"""core/products.py: products, buyer links, the selling point a chase sent, fill-in values, chase
proposals that use the buyer's product, and the product sheet's import/export."""

import csv
import sqlite3
from datetime import datetime, timedelta, timezone

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.core import cadence as cad
from assistant.core import customers, products, reminders, replies, templates
from assistant.core import settings as core_settings
from assistant.core.store import open_store
from assistant.errors import ImportFileError, NotFoundError, ValidationError

POINTS = ["杯盖带防漏硅胶圈，放包里不怕洒", "316 不锈钢内胆，装热水 12 小时后还是温的", "杯身磨砂，手握不打滑"]


@pytest.fixture
def st_(store):
    replies.seed_defaults(store)
    core_settings.set(store, "reminders.agent_tz", "Asia/Shanghai")
    return store


def cup(store, **extra):
    fields = {"short_name": "保温杯", "material": "316 不锈钢", "size": "500ml", "gift": "杯套一个",
              "promotion": "前 100 名送杯刷", **extra}
    return products.add_product(store, "不锈钢保温杯 500ml", selling_points=POINTS, **fields)


# ---------------------------------------------------------------- products


def test_add_edit_list_delete(store):
    p = cup(store, shop="小鹿家居")
    assert p.uuid and p.selling_points == tuple(POINTS) and p.label == "保温杯" and p.shop == "小鹿家居"
    assert products.get_product(store, "保温杯").id == p.id == products.get_product(store, str(p.id)).id
    edited = products.edit_product(store, p.id, selling_points="第一条\n\n第二条\n第一条", price_band="79-99元")
    assert edited.selling_points == ("第一条", "第二条") and edited.price_band == "79-99元"
    assert edited.material == "316 不锈钢"  # untouched
    assert [x.name for x in products.list_products(store, query="保温")] == ["不锈钢保温杯 500ml"]
    assert products.delete_product(store, "保温杯").id == p.id
    with pytest.raises(NotFoundError):
        products.get_product(store, p.id)


@pytest.mark.parametrize("kwargs, zh", [
    ({"name": "  "}, "商品名称不能为空"),
    ({"name": "杯" * 61}, "商品名称太长"),
    ({"name": "杯", "selling_points": ["长" * 201]}, "太长"),
    ({"name": "杯", "selling_points": [str(i) for i in range(31)]}, "卖点太多"),
    ({"name": "杯", "gift": "a\x00b"}, "控制字符"),
])
def test_bad_values_are_one_clear_line_and_nothing_is_stored(store, kwargs, zh):
    with pytest.raises(ValidationError) as exc:
        products.add_product(store, **kwargs)
    assert zh in exc.value.zh and "\n" not in exc.value.zh and exc.value.en
    assert products.list_products(store) == []


def test_the_same_name_twice_in_a_shop_is_refused_but_not_in_two_shops(store):
    products.add_product(store, "围巾", shop="A")
    products.add_product(store, "围巾", shop="B")
    with pytest.raises(ValidationError, match="already"):
        products.add_product(store, "围巾", shop="A")
    with pytest.raises(ValidationError, match="Several products"):
        products.get_product(store, "围巾")
    assert products.get_product(store, "围巾", shop="B").shop == "B"


def test_every_new_table_has_a_uuid(store):
    for table in ("products", "buyer_products"):
        cols = {r[1]: r for r in store.conn.execute(f"PRAGMA table_info({table})")}
        assert cols["uuid"][3] == 1  # NOT NULL
    assert {"product_id", "selling_point"} <= {r[1] for r in store.conn.execute("PRAGMA table_info(chases)")}


# ---------------------------------------------------------------- links and fill-in values


def test_the_fields_fill_from_the_chosen_product_else_the_latest_linked(store, clock):
    a = cup(store)
    b = products.add_product(store, "羊毛围巾", material="羊毛", size="180x30cm")
    buyer, _ = customers.get_or_create_buyer(store, "千牛", "小王")
    assert products.current(store, buyer.id) is None
    products.link(store, buyer.id, a.id)
    clock.advance(timedelta(minutes=1))
    products.link(store, buyer.id, "羊毛围巾")
    assert products.current(store, buyer.id).id == b.id  # the latest
    products.link(store, buyer.id, a.id, choose=True)
    clock.advance(timedelta(minutes=1))
    assert products.current(store, buyer.id).id == a.id
    values = products.fill_values(store, buyer.id)
    assert values == {"商品": "保温杯", "卖点": POINTS[0], "材质": "316 不锈钢", "尺码": "500ml", "赠品": "杯套一个",
                      "优惠": "前 100 名送杯刷"}
    assert templates.render("{商品}：{卖点}，{材质}/{尺码}", values).complete
    products.unlink(store, buyer.id, a.id)
    assert products.current(store, buyer.id).id == b.id
    with pytest.raises(NotFoundError):
        products.unlink(store, buyer.id, a.id)
    products.delete_product(store, b.id)  # its links go with it
    assert products.links(store, buyer.id) == []


def test_new_fields_are_known_and_an_unknown_one_still_errors():
    assert templates.validate("{卖点}{材质}{尺码}{selling_point}") == ["卖点", "材质", "尺码"]
    with pytest.raises(ValidationError, match="Unknown fill-in field"):
        templates.validate("{颜色}")


# ---------------------------------------------------------------- chases


def test_each_chase_proposes_a_new_selling_point_and_records_it(st_, clock):
    p = cup(st_)
    buyer = reminders.star(st_, platform="千牛", nickname="小王")
    products.link(st_, buyer.id, p.id)
    proposal = reminders.propose(st_, buyer.id)
    assert proposal.angle == "product" and not proposal.generic
    assert proposal.selling_point == POINTS[0] and "{卖点}" in proposal.reply_body
    assert proposal.values["卖点"] == POINTS[0]
    due = reminders.buyer_reminders(st_, buyer.id)[0]
    assert due.fill_values()["卖点"] == POINTS[0] and due.fill_values()["商品"] == "保温杯"
    reminders.record_chase(st_, buyer.id, proposal.reply_id)
    assert products.sent_points(st_, buyer.id) == {POINTS[0]}
    row = st_.query("SELECT product_id, selling_point FROM chases WHERE buyer_id = ?", (buyer.id,))[0]
    assert (row["product_id"], row["selling_point"]) == (p.id, POINTS[0])
    # the angles rotate: the next chase is about the price (the product's promotion note)
    clock.advance(timedelta(minutes=10))
    price = reminders.propose(st_, buyer.id)
    assert price.angle == "price" and not price.generic and price.selling_point is None
    reminders.record_chase(st_, buyer.id, price.reply_id)
    clock.advance(timedelta(minutes=10))
    assert reminders.propose(st_, buyer.id).angle == "logistics"


def test_without_a_product_the_generic_scripts_remain_marked(st_):
    buyer = reminders.star(st_, platform="千牛", nickname="小李")
    proposal = reminders.propose(st_, buyer.id)
    assert proposal.angle == "product" and proposal.generic and proposal.selling_point is None
    assert proposal.to_dict()["generic"] is True
    reminders.record_chase(st_, buyer.id, proposal.reply_id)
    assert products.sent_points(st_, buyer.id) == set()  # nothing known was sent


def test_the_gift_angle_uses_the_gift_note(st_, clock):
    p = cup(st_, promotion="")
    buyer = reminders.star(st_, platform="千牛", nickname="小赵")
    products.link(st_, buyer.id, p.id)
    seen = {}
    for _ in range(4):
        proposal = reminders.propose(st_, buyer.id)
        seen[proposal.angle] = proposal
        reminders.record_chase(st_, buyer.id, proposal.reply_id)
        clock.advance(timedelta(minutes=10))
    assert not seen["gift"].generic and "{赠品}" in seen["gift"].reply_body
    assert seen["price"].generic  # no promotion note, no promotion: the generic price scripts, marked


def test_an_explicit_selling_point_is_recorded(st_):
    buyer = reminders.star(st_, platform="千牛", nickname="小钱")
    reminders.record_chase(st_, buyer.id, None, angle="product", selling_point="  手工缝线  ")
    assert products.sent_points(st_, buyer.id) == {"手工缝线"}


def test_the_product_angle_runs_out_of_points_then_goes_generic(st_, clock):
    p = products.add_product(st_, "围巾", selling_points=["一", "二"])
    buyer = reminders.star(st_, platform="千牛", nickname="小孙")
    products.link(st_, buyer.id, p.id)
    points = []
    for _ in range(12):
        proposal = reminders.propose(st_, buyer.id)
        if proposal.reply_id is None:
            break
        if proposal.angle == "product":
            assert proposal.selling_point not in products.sent_points(st_, buyer.id)
            points.append(proposal.selling_point)
        reminders.record_chase(st_, buyer.id, proposal.reply_id)
        clock.advance(timedelta(minutes=10))
    assert points[:2] == ["一", "二"] and all(p is None for p in points[2:])


@settings(max_examples=150, deadline=None)
@given(points=st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=5, unique=True),
       steps=st.lists(st.tuples(st.sampled_from(cad.ANGLES), st.booleans(), st.sampled_from(["a", "b", "c", "x"])),
                      max_size=12),
       uses=st.lists(st.booleans(), min_size=10, max_size=10))
def test_property_the_product_angle_never_proposes_a_point_already_sent(points, steps, uses):
    """Whatever the buyer was sent (chases of any angle, with or without a selling point, some never
    in the product), the next proposal's selling point is one this buyer was never sent."""
    product = products.Product(1, "u", "", "p", selling_points=tuple(points))
    scripts = [cad.Script(i + 1, cad.ANGLES[i % 5], fields=("卖点",) if use else ()) for i, use in enumerate(uses)]
    history, sent = [], set()
    t = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for i, (angle, with_point, point) in enumerate(steps):
        history.append(cad.SentChase(t + timedelta(minutes=10 * i), (i % 10) + 1, angle))
        if with_point:
            sent.add(point)
        values = products.values_for(product, sent)
        known = cad.Known(frozenset(values), products.next_point(product, sent))
        proposal = cad.propose(history, scripts, now=t + timedelta(minutes=10 * i + 5), open_questions=False,
                               known=known)
        assert proposal.selling_point is None or proposal.selling_point not in sent
        if proposal.selling_point is not None:
            assert proposal.selling_point in points


# ---------------------------------------------------------------- import / export


def test_round_trip_csv_and_xlsx(store, tmp_path):
    cup(store, shop="小鹿家居", item_ref="=HYPERLINK(\"x\")")
    products.add_product(store, "羊毛围巾", selling_points=["一", "二"], care="手洗")
    for name in ("p.csv", "p.xlsx"):
        path = tmp_path / name
        assert products.export_file(store, path) == 2
        target = open_store(tmp_path / f"{name}.db")  # a fresh library on the import side
        try:
            result = products.import_file(target, path)
            assert (result.added, result.updated) == (2, 0)
            key = lambda p: (p.shop, p.name)  # noqa: E731
            strip = lambda p: {k: v for k, v in p.to_dict().items()  # noqa: E731
                               if k not in ("id", "uuid", "created_at", "updated_at")}
            assert [strip(p) for p in sorted(products.list_products(target), key=key)] == \
                [strip(p) for p in sorted(products.list_products(store), key=key)]
            assert products.import_file(target, path).updated == 2  # again: updates, never duplicates
        finally:
            target.close()
    with open(tmp_path / "p.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "商品名称" and any(c.startswith("'=") for row in rows for c in row)  # neutralised


def test_english_and_alias_headers_are_accepted_and_an_empty_cell_keeps_the_stored_value(store, tmp_path):
    cup(store)
    path = tmp_path / "shop.csv"
    path.write_text("Name,Selling points,宝贝链接,Price\n不锈钢保温杯 500ml,新卖点一|新卖点二,,99元\n新品,,123456,\n",
                    encoding="utf-8")
    result = products.import_file(store, path)
    assert (result.added, result.updated) == (1, 1)
    p = products.get_product(store, "不锈钢保温杯 500ml")
    assert p.selling_points == ("新卖点一", "新卖点二") and p.price_band == "99元" and p.material == "316 不锈钢"
    assert products.get_product(store, "新品").item_ref == "123456"


def test_the_template_reads_back(store, tmp_path):
    path = tmp_path / "template.xlsx"
    assert products.export_file(store, path, template=True) == 1
    wb = openpyxl.load_workbook(path)
    assert [c.value for c in wb.active[1]][:5] == ["商品名称", "简称", "链接或商品ID", "价格区间", "卖点"]
    assert len(products.read_rows(path)) == 1


@pytest.mark.parametrize("content, zh", [
    ("简称,卖点\n杯,好\n", "商品名称"),
    ("商品名称,卖点\n杯,好\n,缺名字\n", "第 3 行"),
    ("商品名称,Name\n杯,杯\n", "出现了两次"),
    ("商品名称\n杯\n杯\n", "已经出现过"),
    ("商品名称,简称\n杯,\"没关引号\n", "CSV"),
    ("", "空"),
    ("商品名称,价格区间\n杯," + "9" * 41 + "\n", "第 2 行"),
])
def test_a_malformed_file_is_one_clear_line_and_nothing_is_stored(store, tmp_path, content, zh):
    cup(store)
    before = products.list_products(store)
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError) as exc:
        products.import_file(store, path)
    assert zh in exc.value.zh and "\n" not in exc.value.zh and "\n" not in exc.value.en
    assert products.list_products(store) == before


def test_a_failure_half_way_through_the_import_leaves_nothing(store, tmp_path, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_text("商品名称\n甲\n乙\n", encoding="utf-8")
    real = products._insert
    calls = []

    def failing(store_, values, stamp):
        calls.append(values["name"])
        if len(calls) == 2:
            raise sqlite3.OperationalError("disk I/O error")
        return real(store_, values, stamp)

    monkeypatch.setattr(products, "_insert", failing)
    with pytest.raises(sqlite3.OperationalError):
        products.import_file(store, path)
    assert products.list_products(store) == []


def test_not_a_workbook_and_an_unknown_type(store, tmp_path):
    bad = tmp_path / "p.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ImportFileError, match="xlsx"):
        products.import_file(store, bad)
    other = tmp_path / "p.json"
    other.write_text("{}")
    with pytest.raises(ImportFileError, match="csv"):
        products.import_file(store, other)


@settings(max_examples=120, deadline=None)
@given(raw=st.one_of(st.binary(max_size=300),
                     st.text(alphabet=st.sampled_from(list('商品名称卖点,"\n\r|;=+-@\'\tabc1 ')), max_size=120)
                     .map(lambda t: t.encode("utf-8"))),
       suffix=st.sampled_from([".csv", ".xlsx"]))
def test_fuzz_a_product_file_is_imported_or_refused_in_one_line(tmp_path_factory, raw, suffix):
    """Whatever the bytes: imported, or one ImportFileError line with nothing stored; never a traceback."""
    folder = tmp_path_factory.mktemp("fuzz")
    store = open_store(folder / "kefu.db")
    try:
        path = folder / f"p{suffix}"
        path.write_bytes(raw)
        try:
            products.import_file(store, path)
        except ImportFileError as exc:
            assert "\n" not in exc.zh and "\n" not in exc.en
            assert products.list_products(store) == []
    finally:
        store.close()


def test_the_active_promotion_is_the_one_on_now_or_within_a_week(st_, clock):
    now = clock.now()
    assert products.active_promotion(st_) is None
    reminders.add_promotion(st_, "年货节", now + timedelta(days=20))
    assert products.active_promotion(st_) is None  # too far off to be a reason to buy now
    reminders.add_promotion(st_, "双十二", now + timedelta(days=2))
    assert products.active_promotion(st_) == "双十二"
    buyer = reminders.star(st_, platform="千牛", nickname="小周")
    assert reminders.buyer_reminders(st_, buyer.id)[0].fill_values()["活动"] == "双十二"
    clock.advance(timedelta(days=2, hours=23))
    assert products.active_promotion(st_) == "双十二"  # on since less than a day
    clock.advance(timedelta(hours=2))
    assert products.active_promotion(st_) is None
