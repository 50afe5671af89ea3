"""Products (商品资料): what a chase says about the product a buyer asked about.

A product belongs to a shop (shop = '' when the agent serves one) and carries its selling points (卖点,
an ordered list of sentences), material / size / care notes, a gift note and a promotion note. A buyer
is linked to the product(s) they asked about; the fill-in fields {商品} {卖点} {材质} {尺码} {赠品}
{优惠} fill from the buyer's product: the one the agent chose, else the latest linked.

Each chase records the selling point it sent (chases.selling_point, the sentence as sent): the
product angle proposes the first selling point this buyer has not been sent yet (next_point), never
one already sent. A selling point reworded in the product counts as a new one.

Import/export: a CSV or XLSX sheet a shop already keeps, one product a row, headers in Chinese or
English (COLUMNS; README "Products"). An import is all-or-nothing: a bad row is named and nothing
is stored. Every write is one transaction. Buyer nicknames are never logged: only ids.
"""

from __future__ import annotations

import csv
import json
import logging
import uuid as uuidlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import ImportFileError, NotFoundError, ValidationError
from . import checked, outbox
from .clock import to_db
from .fileio import atomic, table
from .fileio.cells import csv_neutralise, neutralise
from .fileio.xlsx import XlsxWriter
from .store import Store
from .teamstate import other_holder, team_kind, team_shop_for

log = logging.getLogger(__name__)

MAX_NAME = 60
MAX_SHORT = 20
MAX_REF = 300
MAX_PRICE = 40
MAX_POINT = 200
MAX_POINTS = 30
MAX_NOTE = 500
MAX_SHOP = 60
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass(frozen=True)
class Column:
    key: str  # Product attribute
    zh: str  # header written by the template and the export
    en: str
    aliases: tuple[str, ...] = ()  # other headers accepted on import (what shops tend to call them)
    limit: int = MAX_NOTE


# The product sheet's columns, in the order the template and the export write them.
COLUMNS: tuple[Column, ...] = (
    Column("name", "商品名称", "Name", ("商品名", "宝贝名称", "宝贝标题", "商品标题", "标题", "product", "product name", "title"),
           MAX_NAME),
    Column("short_name", "简称", "Short name", ("商品简称", "short"), MAX_SHORT),
    Column("item_ref", "链接或商品ID", "Link or item id", ("链接", "商品链接", "宝贝链接", "商品ID", "商品id", "宝贝ID", "宝贝id",
                                                        "item id", "link", "url"), MAX_REF),
    Column("price_band", "价格区间", "Price band", ("价格", "价位", "price"), MAX_PRICE),
    Column("selling_points", "卖点", "Selling points", ("卖点（每行一条）", "商品卖点", "selling point"), MAX_POINT),
    Column("material", "材质", "Material", ("面料", "材料"), MAX_NOTE),
    Column("size", "尺码", "Size", ("尺寸", "规格", "尺码说明", "size notes"), MAX_NOTE),
    Column("care", "保养说明", "Care", ("洗涤说明", "保养", "care notes"), MAX_NOTE),
    Column("gift", "赠品", "Gift", ("赠品说明", "gift note"), MAX_NOTE),
    Column("promotion", "优惠说明", "Promotion", ("优惠", "活动说明", "促销", "promotion note"), MAX_NOTE),
    Column("shop", "店铺", "Shop", ("店铺名称", "shop name"), MAX_SHOP),
)
_HEADERS: dict[str, Column] = {}
for _c in COLUMNS:
    for _h in (_c.zh, _c.en, *_c.aliases):
        _HEADERS[_h.strip().lower()] = _c

TEXT_FIELDS = ("short_name", "item_ref", "price_band", "material", "size", "care", "gift", "promotion")
_LIMITS = {c.key: c.limit for c in COLUMNS}
_NAMES = {c.key: (c.zh, c.en) for c in COLUMNS}


@dataclass(frozen=True)
class Product:
    id: int
    uuid: str
    shop: str
    name: str
    short_name: str = ""
    item_ref: str = ""
    price_band: str = ""
    selling_points: tuple[str, ...] = ()
    material: str = ""
    size: str = ""
    care: str = ""
    gift: str = ""
    promotion: str = ""
    created_at: str = ""
    updated_at: str = ""
    team_shop: str | None = None  # team mode: the server shop whose product list this is (None: this PC's)
    shop_version: int | None = None  # the server's version this copy was read at

    @property
    def label(self) -> str:
        """What {商品} fills with: the short name when there is one (it reads better in a chat)."""
        return self.short_name or self.name

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["selling_points"] = list(self.selling_points)
        return data


@dataclass(frozen=True)
class Link:
    product: Product
    chosen: bool
    linked_at: str


@dataclass
class ImportResult:
    added: int = 0
    updated: int = 0
    names: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- validation

def _bad(zh: str, en: str, fieldname: str) -> ValidationError:
    return ValidationError(zh, en, field=fieldname)


def _clean(key: str, value: Any) -> str:
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in text:
        raise _bad(f"{_NAMES[key][0]}中含有不可见的控制字符", f"{_NAMES[key][1]} contains a control character", key)
    if key in ("name", "short_name", "item_ref", "price_band", "shop"):
        text = " ".join(text.split())  # one line
    limit = _LIMITS[key]
    if len(text) > limit:
        raise _bad(f"{_NAMES[key][0]}太长（{len(text)} 字，最多 {limit} 字）",
                   f"{_NAMES[key][1]} is too long ({len(text)} characters, at most {limit})", key)
    return text


def clean_points(points: Any) -> tuple[str, ...]:
    """Selling points from a list, or from one text (one a line; a single line may use | between
    points). Empty lines dropped, duplicates kept once, order kept."""
    if points is None:
        return ()
    if isinstance(points, str):
        text = points.replace("\r\n", "\n").replace("\r", "\n")
        items: Iterable[Any] = text.split("\n") if "\n" in text else text.replace("｜", "|").split("|")
    else:
        items = points
    out: list[str] = []
    for raw in items:
        text = " ".join(str(raw if raw is not None else "").split())
        if not text or text in out:
            continue
        if "\x00" in text:
            raise _bad("卖点中含有不可见的控制字符", "A selling point contains a control character", "selling_points")
        if len(text) > MAX_POINT:
            raise _bad(f"卖点“{text[:12]}…”太长（{len(text)} 字，最多 {MAX_POINT} 字）",
                       f"The selling point '{text[:12]}…' is too long ({len(text)} characters, at most {MAX_POINT})",
                       "selling_points")
        out.append(text)
    if len(out) > MAX_POINTS:
        raise _bad(f"卖点太多（{len(out)} 条，最多 {MAX_POINTS} 条）",
                   f"Too many selling points ({len(out)}, at most {MAX_POINTS})", "selling_points")
    return tuple(out)


def _values(changes: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "selling_points":
            out[key] = clean_points(value)
        elif key == "name":
            name = _clean("name", value)
            if not name:
                raise _bad("商品名称不能为空", "A product needs a name", "name")
            out[key] = name
        elif key in TEXT_FIELDS or key == "shop":
            out[key] = _clean(key, value)
        else:
            raise _bad(f"未知的商品字段“{key}”", f"Unknown product field '{key}'", key)
    return out


# ---------------------------------------------------------------- reading

_SELECT = ("SELECT id, uuid, shop, name, short_name, item_ref, price_band, selling_points, material, size, care, gift, "
           "promotion, created_at, updated_at, team_shop, shop_version FROM products")


def _product(row: dict) -> Product:
    points = tuple(checked.text_list(row["selling_points"], table="products", column="selling_points",
                                     row_id=row["id"]))
    return Product(row["id"], row["uuid"], row["shop"], row["name"], row["short_name"], row["item_ref"],
                   row["price_band"], points, row["material"], row["size"], row["care"], row["gift"],
                   row["promotion"], row["created_at"], row["updated_at"], row["team_shop"], row["shop_version"])


def list_products(store: Store, *, shop: str | None = None, query: str | None = None) -> list[Product]:
    sql, params = _SELECT, []
    where = []
    if shop is not None:
        where.append("shop = ?")
        params.append(shop.strip())
    if query:
        where.append("(instr(name, ?) > 0 OR instr(short_name, ?) > 0 OR instr(item_ref, ?) > 0)")
        params += [query.strip()] * 3
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_product(r) for r in store.query(sql + " ORDER BY shop, name", tuple(params))]


def get_product(store: Store, ref: int | str, shop: str | None = None) -> Product:
    """A product by id, name or short name (shop narrows it when two shops have the same name)."""
    text = str(ref).strip()
    if isinstance(ref, int) or (text.isdigit() and len(text) < 12):
        rows = store.query(_SELECT + " WHERE id = ?", (int(text),))
        if rows:
            return _product(rows[0])
    sql = _SELECT + " WHERE (name = ? OR short_name = ? OR (item_ref != '' AND item_ref = ?))"
    params: list[Any] = [text, text, text]
    if shop is not None:
        sql += " AND shop = ?"
        params.append(shop.strip())
    rows = store.query(sql + " ORDER BY name = ? DESC, id", (*params, text))
    if not rows:
        raise NotFoundError(f"没有找到商品“{text}”", f"No product '{text}'")
    exact = [r for r in rows if r["name"] == text] or rows
    if len({r["id"] for r in exact}) > 1:
        shops = "、".join(r["shop"] or "（未填店铺）" for r in exact)
        raise _bad(f"有多个商品叫“{text}”（店铺：{shops}），请指明店铺或用编号",
                   f"Several products are called '{text}' (shops: {shops}); give the shop or the id", "product")
    return _product(exact[0])


# ---------------------------------------------------------------- writing

def _now(store: Store, now: datetime | None) -> str:
    return to_db(now or store.clock.now())


def _insert(store: Store, values: dict[str, Any], stamp: str) -> int:
    if store.query("SELECT 1 FROM products WHERE shop = ? AND name = ?", (values.get("shop", ""), values["name"])):
        raise _bad(f"已经有商品“{values['name']}”了", f"There is already a product '{values['name']}'", "name")
    row = {k: "" for k in TEXT_FIELDS}
    row.update({k: v for k, v in values.items() if k != "selling_points"})
    cur = store.conn.execute(
        "INSERT INTO products (uuid, shop, name, short_name, item_ref, price_band, selling_points, material, size, care, "
        "gift, promotion, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (str(uuidlib.uuid4()), row.get("shop", ""), row["name"], row["short_name"], row["item_ref"], row["price_band"],
         json.dumps(list(values.get("selling_points", ())), ensure_ascii=False), row["material"], row["size"],
         row["care"], row["gift"], row["promotion"], stamp, stamp))
    share(store, int(cur.lastrowid))  # team mode: a supervisor's product of a served shop is the shop's
    return int(cur.lastrowid)


def _update(store: Store, product_id: int, values: dict[str, Any], stamp: str) -> None:
    if not values:
        return
    before = get_product(store, product_id)
    _require_supervisor(store, before)
    if "name" in values or "shop" in values:
        current = store.query("SELECT shop, name FROM products WHERE id = ?", (product_id,))[0]
        shop, name = values.get("shop", current["shop"]), values.get("name", current["name"])
        if store.query("SELECT 1 FROM products WHERE shop = ? AND name = ? AND id != ?", (shop, name, product_id)):
            raise _bad(f"已经有商品“{name}”了", f"There is already a product '{name}'", "name")
    cols = [f"{k} = ?" for k in values]
    params = [json.dumps(list(v), ensure_ascii=False) if k == "selling_points" else v for k, v in values.items()]
    store.conn.execute(f"UPDATE products SET {', '.join(cols)}, updated_at = ? WHERE id = ?",
                       (*params, stamp, product_id))
    if before.team_shop is not None:  # the shop's list: the change goes to the server with its version
        store.conn.execute("UPDATE products SET shop_version = ? WHERE id = ?", ((before.shop_version or 0) + 1,
                                                                                 product_id))
        _queue_put(store, get_product(store, product_id), before.shop_version)


def add_product(store: Store, name: str, *, shop: str = "", selling_points: Sequence[str] | str = (),
                now: datetime | None = None, **fields: str) -> Product:
    values = _values({"name": name, "shop": shop, "selling_points": selling_points, **fields})
    with store.write():
        pid = _insert(store, values, _now(store, now))
    log.info("product %s added", pid)
    return get_product(store, pid)


def edit_product(store: Store, ref: int | str, *, now: datetime | None = None, **changes: Any) -> Product:
    """Change the given fields (selling_points replaces the whole list)."""
    values = _values({k: v for k, v in changes.items() if v is not None})
    with store.write():
        product = get_product(store, ref)
        _update(store, product.id, values, _now(store, now))
    return get_product(store, product.id)


def delete_product(store: Store, ref: int | str) -> Product:
    """Delete a product: its links to buyers go with it; chases keep the selling point they sent."""
    with store.write() as db:
        product = get_product(store, ref)
        if product.team_shop is not None:  # a tombstone on the server: offline panels learn of it
            _require_supervisor(store, product)
            _queue_put(store, product, product.shop_version, deleted=True)
        db.execute("DELETE FROM products WHERE id = ?", (product.id,))
    log.info("product %s deleted", product.id)
    return product


# ---------------------------------------------------------------- buyers

def link(store: Store, buyer_id: int, product_ref: int | str, *, choose: bool = False,
         now: datetime | None = None) -> Product:
    """Link a buyer to a product they asked about. Linking again makes it the latest; choose=True
    makes it the one the fields fill from even when another is linked later."""
    stamp = _now(store, now)
    with store.write() as db:
        if not store.query("SELECT 1 FROM buyers WHERE id = ?", (int(buyer_id),)):
            raise NotFoundError(f"没有找到买家 {buyer_id}", f"No buyer {buyer_id}")
        product = get_product(store, product_ref)
        shared = _link_shared(store, int(buyer_id), product)
        db.execute("INSERT INTO buyer_products (uuid, buyer_id, product_id, linked_at) VALUES (?,?,?,?) "
                   "ON CONFLICT(buyer_id, product_id) DO UPDATE SET linked_at = excluded.linked_at",
                   (str(uuidlib.uuid4()), int(buyer_id), product.id, stamp))
        if choose:
            db.execute("UPDATE buyer_products SET chosen = (product_id = ?) WHERE buyer_id = ?", (product.id, int(buyer_id)))
        if shared:
            _queue_link(store, int(buyer_id), product, present=True)
    log.info("buyer %s linked to product %s", buyer_id, product.id)
    return product


def unlink(store: Store, buyer_id: int, product_ref: int | str) -> Product:
    with store.write() as db:
        product = get_product(store, product_ref)
        shared = _link_shared(store, int(buyer_id), product)
        if shared:
            _queue_link(store, int(buyer_id), product, present=False)
        cur = db.execute("DELETE FROM buyer_products WHERE buyer_id = ? AND product_id = ?", (int(buyer_id), product.id))
        if cur.rowcount == 0:
            raise NotFoundError(f"这位买家没有关联商品“{product.name}”",
                                f"This buyer is not linked to the product '{product.name}'")
    return product


def links(store: Store, buyer_id: int) -> list[Link]:
    """The buyer's products, the one the fields fill from first (chosen, else the latest linked)."""
    rows = store.query("SELECT p.*, l.chosen, l.linked_at FROM buyer_products l JOIN products p ON p.id = l.product_id "
                       "WHERE l.buyer_id = ? ORDER BY l.chosen DESC, l.linked_at DESC, l.id DESC", (int(buyer_id),))
    return [Link(_product(r), bool(r["chosen"]), r["linked_at"]) for r in rows]


def current(store: Store, buyer_id: int) -> Product | None:
    found = links(store, buyer_id)
    return found[0].product if found else None


def current_of(store: Store, buyer_ids: Sequence[int]) -> dict[int, Product]:
    """current() for many buyers in one query (the reminder lists)."""
    ids = sorted({int(b) for b in buyer_ids})
    out: dict[int, Product] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = store.query("SELECT p.*, l.buyer_id AS link_buyer FROM buyer_products l JOIN products p "
                           f"ON p.id = l.product_id WHERE l.buyer_id IN ({','.join('?' * len(chunk))}) "
                           "ORDER BY l.chosen DESC, l.linked_at DESC, l.id DESC", tuple(chunk))
        for r in rows:
            out.setdefault(r["link_buyer"], _product(r))
    return out


def sent_points(store: Store, buyer_id: int) -> set[str]:
    """Every selling point already sent to this buyer (whatever product it was of)."""
    return {r["selling_point"] for r in store.query(
        "SELECT DISTINCT selling_point FROM chases WHERE buyer_id = ? AND selling_point IS NOT NULL", (int(buyer_id),))}


def sent_points_of(store: Store, buyer_ids: Sequence[int]) -> dict[int, set[str]]:
    ids = sorted({int(b) for b in buyer_ids})
    out: dict[int, set[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for r in store.query(f"SELECT buyer_id, selling_point FROM chases WHERE buyer_id IN ({','.join('?' * len(chunk))}) "
                             "AND selling_point IS NOT NULL", tuple(chunk)):
            out.setdefault(r["buyer_id"], set()).add(r["selling_point"])
    return out


def next_point(product: Product | None, sent: Iterable[str]) -> str | None:
    """The first selling point of the product not yet sent (None: none known, or all sent)."""
    if product is None:
        return None
    done = set(sent)
    return next((p for p in product.selling_points if p not in done), None)


def active_promotion(store: Store, now: datetime | None = None) -> str | None:
    """The promotion on now or coming soon: started less than a day ago, or starting within a week
    (the earliest such): {活动}. One further off is not yet a reason to buy now."""
    at = now or store.clock.now()
    rows = store.query("SELECT name FROM promotions WHERE start_at > ? AND start_at <= ? ORDER BY start_at LIMIT 1",
                       (to_db(at - timedelta(hours=24)), to_db(at + timedelta(days=7))))
    return rows[0]["name"] if rows else None


def values_for(product: Product | None, sent: Iterable[str], promotion: str | None = None) -> dict[str, str]:
    """The fill-in values a buyer's product gives: {商品} {卖点} (the next one not sent) {材质} {尺码}
    {赠品} {优惠} (the product's promotion note), and {活动} (the active promotion). Empty values are
    left out (a missing field stays for the agent to fill)."""
    values: dict[str, str] = {}
    if promotion:
        values["活动"] = promotion
    if product is None:
        return values
    point = next_point(product, sent)
    for key, value in (("商品", product.label), ("卖点", point), ("材质", product.material), ("尺码", product.size),
                       ("赠品", product.gift), ("优惠", product.promotion)):
        if value:
            values[key] = value
    return values


def fill_values(store: Store, buyer_id: int, now: datetime | None = None) -> dict[str, str]:
    return values_for(current(store, buyer_id), sent_points(store, buyer_id), active_promotion(store, now))


# ---------------------------------------------------------------- team mode
# With a team server the shop's product list is shared like the shop library: every agent of the shop
# reads it, a supervisor changes it (each change queued in the outbox in the same transaction, with
# the version it was made from: the server refuses a stale one, assistant/team/sync.py keeps both
# sides as a conflict). An agent's own products stay on its PC. A buyer's links to the shop's products
# follow the buyer's holder (the holder, anyone while nobody holds it, or a supervisor), and the
# selling point each chase sent travels with the chase (customers.apply_chase_row), so a second
# agent's panel never proposes it to the same buyer again.

def _require_free(store: Store, buyer_id: int) -> None:
    """Another agent's unexpired lease on the buyer refuses the change (as customers.require_free)."""
    row = store.query("SELECT holder, holder_name, held_until FROM buyers WHERE id = ?", (buyer_id,))[0]
    other = other_holder(store, row["holder"], row["holder_name"], row["held_until"])
    if other is not None:
        raise ValidationError(f"{other[1]} 跟进中：先“接手”才能修改关联商品",
                              f"{other[1]} is following this buyer: take over before you change their products",
                              field="holder")


def may_edit(store: Store, product: Product) -> bool:
    """Whether this panel may change the product (a shop's product: a supervisor only)."""
    return product.team_shop is None or team_kind(store) == "supervisor"


def _require_supervisor(store: Store, product: Product) -> None:
    if not may_edit(store, product):
        raise _bad(f"“{product.name}”是店铺的商品资料，只有主管可以修改", f"'{product.name}' is in the shop's product list: "
                   "only a supervisor can change it", "shop")


def shop_payload(product: Product) -> dict[str, Any]:
    """The synced fields of a shop's product, as the server stores them."""
    return {"name": product.name, "short_name": product.short_name, "item_ref": product.item_ref,
            "price_band": product.price_band, "selling_points": list(product.selling_points),
            "material": product.material, "size": product.size, "care": product.care, "gift": product.gift,
            "promotion": product.promotion}


def _queue_put(store: Store, product: Product, expected: int | None, deleted: bool = False) -> None:
    outbox.add(store, "product.put", product.uuid, {"shop": product.team_shop, "expected_version": expected,
                                                    "deleted": deleted, "product": shop_payload(product)})


def share(store: Store, product_id: int) -> bool:
    """A supervisor's product of a shop it serves joins that shop's list (same uuid), with the links
    of the shop's shared buyers to it. Inside the caller's write; False when it stays this PC's."""
    if team_kind(store) != "supervisor":
        return False
    product = get_product(store, product_id)
    if product.team_shop is not None:
        return False
    shop = team_shop_for(store, product.shop)
    if shop is None:
        return False
    store.conn.execute("UPDATE products SET team_shop = ?, shop_version = 1 WHERE id = ?", (shop, product.id))
    product = get_product(store, product.id)
    _queue_put(store, product, None)
    for r in store.query("SELECT l.buyer_id FROM buyer_products l JOIN buyers b ON b.id = l.buyer_id "
                         "WHERE l.product_id = ? AND b.team_shop = ?", (product.id, shop)):
        _queue_link(store, r["buyer_id"], product, present=True)
    return True


def share_all(store: Store) -> int:
    """Every product of a served shop a supervisor has not shared yet (made before joining the team,
    or before the shop was granted): every sync and `kefu team upload` call it. Returns how many."""
    if team_kind(store) != "supervisor":
        return 0
    with store.write():
        return sum(share(store, r["id"]) for r in store.query("SELECT id FROM products WHERE team_shop IS NULL"))


def _link_shared(store: Store, buyer_id: int, product: Product) -> bool:
    """Whether a link of this buyer and product is the team's (both shared, same shop); if so, only
    the buyer's holder (or anyone while nobody holds it, or a supervisor) may change it."""
    rows = store.query("SELECT team_shop FROM buyers WHERE id = ?", (buyer_id,))
    if not rows or rows[0]["team_shop"] is None or product.team_shop != rows[0]["team_shop"]:
        return False
    if team_kind(store) != "supervisor":
        _require_free(store, buyer_id)
    return True


def _queue_link(store: Store, buyer_id: int, product: Product, present: bool) -> None:
    rows = store.query("SELECT b.uuid AS buyer, l.uuid, l.chosen FROM buyers b LEFT JOIN buyer_products l "
                       "ON l.buyer_id = b.id AND l.product_id = ? WHERE b.id = ?", (product.id, buyer_id))
    r = rows[0]
    outbox.add(store, "product.link", r["uuid"] or str(uuidlib.uuid4()),
               {"buyer": r["buyer"], "product": product.uuid, "chosen": bool(r["chosen"]) and present,
                "present": present})


def _pending_links(store: Store, buyer_uuid: str) -> bool:
    return bool(store.query("SELECT 1 FROM team_outbox WHERE kind = 'product.link' AND instr(body, ?) > 0 LIMIT 1",
                            (buyer_uuid,)))


# What a pull brings (assistant/team/sync.py), inside its write transaction; ctx as in customers.

def apply_product_row(store: Store, row: dict, ctx: dict) -> str:
    """One product of a shop's list as the server has it: added, updated, adopted (this PC's own
    product of the same shop and name becomes the shop's: no twins), deleted (a tombstone), skipped
    (a local change to it is still unsent, or a shop not served), refused (this panel's rules)."""
    pid = str(row["id"])
    shop_name = ctx["shops"].get(str(row["shop"]))
    if shop_name is None or outbox.has_pending(store, pid):
        return "skipped"
    existing = store.query("SELECT id FROM products WHERE uuid = ?", (pid,))
    if row["deleted"]:
        if existing:
            store.conn.execute("DELETE FROM products WHERE id = ?", (existing[0]["id"],))
            return "deleted"
        return "skipped"
    try:
        values = _values({k: row[k] for k in ("name", "selling_points", *TEXT_FIELDS)})
    except ValidationError as exc:
        outbox.record_conflict(store, "refused", pid, None, {"title": row["name"], "reason": exc.en, "reason_zh": exc.zh})
        return "refused"
    outcome = "updated"
    shops = [shop_name] + ([""] if len(ctx["shops"]) == 1 else [])  # saved without a shop name, one shop served
    twin = store.query(f"SELECT id, uuid, team_shop FROM products WHERE name = ? AND shop IN "
                       f"({','.join('?' * len(shops))}) AND uuid != ? ORDER BY shop = ? DESC",
                       (values["name"], *shops, pid, shop_name))
    if twin and outbox.has_pending(store, twin[0]["uuid"]):
        return "skipped"  # this PC's own change of the same product is on its way: its answer comes back
    if twin and not existing and twin[0]["team_shop"] is None:
        store.conn.execute("UPDATE products SET uuid = ? WHERE id = ?", (pid, twin[0]["id"]))
        existing, outcome = twin, "adopted"
    elif twin:
        # the shop's product keeps the name: this PC's own one is renamed, never lost (a shop product
        # still here under that name was renamed in the same server transaction: its row follows)
        mark = "本机" if twin[0]["team_shop"] is None else twin[0]["uuid"][:8]
        store.conn.execute("UPDATE products SET name = ? WHERE id = ?", (f"{values['name']}（{mark}）", twin[0]["id"]))
    now = to_db(store.clock.now())
    points = json.dumps(list(values["selling_points"]), ensure_ascii=False)
    text = [values[k] for k in TEXT_FIELDS]
    if not existing:
        store.conn.execute(
            "INSERT INTO products (uuid, shop, name, short_name, item_ref, price_band, material, size, care, gift, "
            "promotion, selling_points, created_at, updated_at, team_shop, shop_version) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (pid, shop_name, values["name"], *text, points, now, now, str(row["shop"]), int(row["version"])))
        return "added"
    store.conn.execute(
        "UPDATE products SET shop = ?, name = ?, short_name = ?, item_ref = ?, price_band = ?, material = ?, size = ?, "
        "care = ?, gift = ?, promotion = ?, selling_points = ?, updated_at = ?, team_shop = ?, shop_version = ? "
        "WHERE id = ?", (shop_name, values["name"], *text, points, now, str(row["shop"]), int(row["version"]),
                         existing[0]["id"]))
    return outcome


def apply_link_row(store: Store, row: dict, ctx: dict) -> str:
    """A buyer's link to a shop's product (present = false: unlinked). Skipped while this PC's own
    link change of the buyer is unsent, or when the buyer or the product is not here."""
    buyer = store.query("SELECT id, uuid FROM buyers WHERE uuid = ?", (str(row["buyer"]),))
    product = store.query("SELECT id FROM products WHERE uuid = ?", (str(row["product"]),))
    if not buyer or not product or _pending_links(store, buyer[0]["uuid"]):
        return "skipped"
    bid, pid = buyer[0]["id"], product[0]["id"]
    if not row["present"]:
        store.conn.execute("DELETE FROM buyer_products WHERE buyer_id = ? AND product_id = ?", (bid, pid))
        return "deleted"
    store.conn.execute("INSERT INTO buyer_products (uuid, buyer_id, product_id, chosen, linked_at) VALUES (?,?,?,?,?) "
                       "ON CONFLICT(buyer_id, product_id) DO UPDATE SET chosen = excluded.chosen, "
                       "linked_at = excluded.linked_at",
                       (str(row["id"]), bid, pid, 1 if row["chosen"] else 0, to_db(row["linked_at"])))
    return "updated"


def restore_link(store: Store, buyer_uuid: str, product_uuid: str, server: dict | None) -> None:
    """A refused link change: the link as the server has it comes back (inside the caller's write)."""
    buyer = store.query("SELECT id FROM buyers WHERE uuid = ?", (buyer_uuid,))
    product = store.query("SELECT id FROM products WHERE uuid = ?", (product_uuid,))
    if not buyer or not product:
        return
    if server is None or not server["present"]:
        store.conn.execute("DELETE FROM buyer_products WHERE buyer_id = ? AND product_id = ?",
                           (buyer[0]["id"], product[0]["id"]))
        return
    apply_link_row(store, server, {})


def forget_shops(store: Store, served: Sequence[str]) -> None:
    """Products of shops no longer served leave this PC, unless a local change is unsent; the
    chases that sent their selling points keep the sentence (inside the caller's write)."""
    marks = ",".join("?" * len(served))
    keep = f"AND team_shop NOT IN ({marks})" if served else ""
    for r in store.query(f"SELECT id, uuid FROM products WHERE team_shop IS NOT NULL {keep}", tuple(served)):
        if not outbox.has_pending(store, r["uuid"]):
            store.conn.execute("DELETE FROM products WHERE id = ?", (r["id"],))


# ---------------------------------------------------------------- import / export

def _err(zh: str, en: str, row: int | None = None) -> ImportFileError:
    if row is not None:
        zh, en = f"第 {row} 行：{zh}", f"row {row}: {en}"
    return ImportFileError(f"商品文件无法导入：{zh}", f"Cannot import the product file: {en}", row=row)


def _fail(zh: str, en: str) -> ImportFileError:
    return _err(zh, en)


def read_rows(path: Path | str) -> list[dict[str, Any]]:
    """The products of a CSV or XLSX file, validated: [{key: value}] with the row number under "_row".
    Raises ImportFileError naming the first bad row or header."""
    path = Path(path)
    rows = table.rows(path, _fail, limit=MAX_FILE_BYTES, max_rows=MAX_ROWS, max_cols=len(COLUMNS) + 20)
    header: list[Column | None] | None = None
    out: list[dict[str, Any]] = []
    for number, cells in enumerate(rows, 1):
        if not any(str(c).strip() for c in cells):
            continue
        if header is None:
            header = [_HEADERS.get(str(c).strip().lower()) for c in cells]
            keys = [c.key for c in header if c is not None]
            dup = next((k for k in keys if keys.count(k) > 1), None)
            if dup:
                raise _err(f"表头里“{_NAMES[dup][0]}”出现了两次", f"the header has '{_NAMES[dup][1]}' twice", number)
            if "name" not in keys:
                raise _err("第一行应是表头，且要有“商品名称”列（可先导出模板：kefu products template）",
                           "the first row must be the header, with a 'Name' (商品名称) column "
                           "(export the template: kefu products template)", number)
            continue
        if len(out) >= MAX_ROWS:
            raise _err(f"商品太多（最多 {MAX_ROWS} 行）", f"too many products (at most {MAX_ROWS} rows)")
        raw: dict[str, Any] = {}
        for column, value in zip(header, cells):
            if column is not None and str(value).strip():
                raw[column.key] = value
        try:
            if not str(raw.get("name", "")).strip():
                raise _bad("缺少商品名称", "the product name is missing", "name")
            values = _values(raw)
        except ValidationError as exc:
            raise _err(exc.zh.rstrip("。"), exc.en, number) from exc
        values["_row"] = number
        out.append(values)
    if header is None:
        raise _err("文件是空的", "the file is empty")
    seen: dict[tuple[str, str], int] = {}
    for values in out:
        key = (values.get("shop", ""), values["name"])
        if key in seen:
            raise _err(f"商品“{values['name']}”在第 {seen[key]} 行已经出现过", f"the product '{values['name']}' is "
                       f"already on row {seen[key]}", values["_row"])
        seen[key] = values["_row"]
    return out


def import_file(store: Store, path: Path | str, *, shop: str | None = None,
                now: datetime | None = None) -> ImportResult:
    """Import products: a row whose (shop, name) exists updates that product's filled-in columns
    (an empty cell keeps what is stored), the others are added. All or nothing. shop: for rows
    without a 店铺 column value."""
    rows = read_rows(path)
    default_shop = _clean("shop", shop) if shop else ""
    result = ImportResult()
    stamp = _now(store, now)
    with store.write():
        for values in rows:
            number = values.pop("_row")
            values.setdefault("shop", default_shop)
            try:
                found = store.query("SELECT id FROM products WHERE shop = ? AND name = ?", (values["shop"], values["name"]))
                if found:
                    _update(store, found[0]["id"], {k: v for k, v in values.items() if k not in ("shop", "name")}, stamp)
                    result.updated += 1
                else:
                    _insert(store, values, stamp)
                    result.added += 1
            except ValidationError as exc:
                raise _err(exc.zh.rstrip("。"), exc.en, number) from exc
            result.names.append(values["name"])
    log.info("products imported: %s added, %s updated", result.added, result.updated)
    return result


def _row_cells(product: Product) -> list[str]:
    out = []
    for column in COLUMNS:
        value = getattr(product, column.key)
        out.append("\n".join(value) if column.key == "selling_points" else str(value))
    return out


_EXAMPLE = Product(0, "", "", "不锈钢保温杯 500ml", "保温杯", "", "79-99元",
                   ("316 不锈钢内胆，装热水 12 小时后还是温的", "杯盖带防漏硅胶圈，放包里不怕洒", "杯身磨砂，手握不打滑"),
                   "316 不锈钢内胆，食品级硅胶", "500ml，高 21cm，口径 5cm", "不建议放洗碗机，用软布清洗",
                   "杯套一个", "前 100 名下单送杯刷")


def export_file(store: Store, path: Path | str, *, shop: str | None = None, template: bool = False) -> int:
    """Write the products (template=True: one example row) as CSV (UTF-8 with BOM) or XLSX, chosen by
    the file's extension, with the Chinese headers import reads back. Returns the rows written."""
    path = Path(path)
    products = [_EXAMPLE] if template else list_products(store, shop=shop)
    rows = [_row_cells(p) for p in products]
    headers = [c.zh for c in COLUMNS]
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        def write(tmp: Path) -> None:
            writer = XlsxWriter(title="商品资料")
            writer.sheet("商品资料", [(h, "wrap" if h in ("卖点", "材质", "尺码", "保养说明") else "text") for h in headers],
                         rows)
            writer.save(tmp)
    elif suffix == ".csv":
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(headers)
                for row in rows:
                    out.writerow([csv_neutralise(neutralise(c)) for c in row])
    else:
        raise ValidationError(f"不支持的文件类型“{suffix or '无扩展名'}”（请用 .csv 或 .xlsx）",
                              f"Unsupported file type '{suffix or 'no extension'}' (use .csv or .xlsx)", field="path")
    atomic.write_atomic(path, write)
    return len(rows)
