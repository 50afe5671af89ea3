"""Fill-in fields in replies: {客户}, {商品}, ... Whitelisted names only.

Rendering is a plain scan-and-substitute: never str.format or eval on user text (str.format reaches
object attributes: "{0.__class__}"). Literal braces are written doubled: "{{" and "}}".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ValidationError


@dataclass(frozen=True)
class Field:
    name: str  # canonical (Chinese) name, as written in replies
    alias: str  # English alias, accepted in replies too
    label_en: str
    example: str


FIELDS: tuple[Field, ...] = (
    Field("客户", "customer", "Buyer", "小王"),
    Field("商品", "product", "Product", "加厚羽绒服"),
    Field("优惠", "coupon", "Coupon / discount", "满300减40"),
    Field("截止时间", "deadline", "Deadline", "今晚24点"),
    Field("店铺", "shop", "Shop", "小鹿家居旗舰店"),
    Field("客服", "agent", "Agent", "小美"),
    Field("订单号", "order", "Order number", "3312…"),
    Field("金额", "amount", "Amount", "199元"),
    Field("赠品", "gift", "Gift", "收纳袋"),
    Field("快递", "courier", "Courier", "顺丰"),
    Field("发货时间", "dispatch", "Dispatch time", "48小时内"),
    Field("活动", "promotion", "Promotion", "双十一"),
    # From the buyer's product (core/products.py): a selling point not yet sent, its material and size notes.
    Field("卖点", "selling_point", "Selling point", "杯盖带防漏硅胶圈，放包里不怕洒"),
    Field("材质", "material", "Material", "316 不锈钢内胆"),
    Field("尺码", "size", "Size", "500ml，高 21cm"),
)

_BY_NAME: dict[str, Field] = {}
for _f in FIELDS:
    _BY_NAME[_f.name] = _f
    _BY_NAME[_f.alias] = _f

# Either an escaped brace, or {name} where name has no braces/newlines.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]{0,40})\}|[{}]")


def canonical(name: str) -> str | None:
    field = _BY_NAME.get(name.strip())
    return field.name if field else None


@dataclass(frozen=True)
class Piece:
    """Part of a parsed template: literal text, or a field (name is canonical)."""

    text: str
    field: str | None = None


def parse(body: str) -> list[Piece]:
    """Split a body into literal text and fields; raises ValidationError naming a bad field."""
    pieces: list[Piece] = []
    pos = 0
    for match in _TOKEN.finditer(body):
        if match.start() > pos:
            pieces.append(Piece(body[pos:match.start()]))
        token = match.group(0)
        if token == "{{":
            pieces.append(Piece("{"))
        elif token == "}}":
            pieces.append(Piece("}"))
        elif token in ("{", "}"):
            raise ValidationError(
                f"第 {body.count(chr(10), 0, match.start()) + 1} 行有未配对的花括号“{token}”；"
                "字段请写成 {客户} 这样，普通花括号请写两次：{{ 或 }}。",
                f"Unpaired brace '{token}' on line {body.count(chr(10), 0, match.start()) + 1}; write fields "
                "like {客户} and literal braces doubled: {{ or }}.",
                field="body",
            )
        else:
            name = canonical(match.group(1))
            if name is None:
                known = "、".join("{" + f.name + "}" for f in FIELDS)
                raise ValidationError(
                    f"未知的填空字段 {{{match.group(1)}}}。可用字段：{known}",
                    f"Unknown fill-in field {{{match.group(1)}}}. Known fields: "
                    + ", ".join("{" + f.name + "}/{" + f.alias + "}" for f in FIELDS),
                    field="body",
                )
            pieces.append(Piece(match.group(0), name))
        pos = match.end()
    if pos < len(body):
        pieces.append(Piece(body[pos:]))
    return pieces


def escape_unknown(body: str) -> tuple[str, int]:
    """Keep every brace that is not part of a known field as literal text: "{x}" -> "{{x}}", a lone
    "{" -> "{{". Known fields and already doubled braces stay. Returns (body, places escaped)."""
    out: list[str] = []
    escaped = 0
    pos = 0
    for match in _TOKEN.finditer(body):
        out.append(body[pos:match.start()])
        token = match.group(0)
        if token in ("{{", "}}") or (match.group(1) is not None and canonical(match.group(1))):
            out.append(token)
        else:
            out.append(token.replace("{", "{{").replace("}", "}}"))
            escaped += 1
        pos = match.end()
    out.append(body[pos:])
    return "".join(out), escaped


def validate(body: str) -> list[str]:
    """Check a body before saving; returns its canonical field names in order of first use."""
    seen: list[str] = []
    for piece in parse(body):
        if piece.field and piece.field not in seen:
            seen.append(piece.field)
    return seen


def fields_in(body: str) -> list[str]:
    return validate(body)


@dataclass(frozen=True)
class Rendered:
    text: str
    missing: list[str]  # canonical names with no value; their {field} stays in the text

    @property
    def complete(self) -> bool:
        return not self.missing

    def blanks_notice(self) -> tuple[str, str]:
        """(zh, en) for a copy path with no fill-in form, which must not copy the text with blanks."""
        names = "、".join(self.missing)
        return (f"这条话术还有待填写的内容（{names}）：请在快捷回复里填写后粘贴",
                f"This script has fields to fill in ({', '.join(self.missing)}): fill them in from the quick "
                "replies, then paste")


def render(body: str, values: dict[str, str] | None = None) -> Rendered:
    """Substitute values (keys: canonical names or aliases). Missing fields are reported so the UI
    can ask for them; an empty string counts as missing."""
    normalised: dict[str, str] = {}
    for key, value in (values or {}).items():
        name = canonical(key)
        if name is not None and value is not None and str(value).strip():
            normalised[name] = str(value)
    out: list[str] = []
    missing: list[str] = []
    for piece in parse(body):
        if piece.field is None:
            out.append(piece.text)
        elif piece.field in normalised:
            out.append(normalised[piece.field])
        else:
            out.append("{" + piece.field + "}")
            if piece.field not in missing:
                missing.append(piece.field)
    return Rendered("".join(out), missing)


def field_spans(body: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical name) of each field in body, for highlighting in the preview.
    Never raises: a body that does not parse simply has no highlighted spans."""
    spans = []
    for match in _TOKEN.finditer(body):
        if match.group(1) is not None:
            name = canonical(match.group(1))
            if name:
                spans.append((match.start(), match.end(), name))
    return spans
