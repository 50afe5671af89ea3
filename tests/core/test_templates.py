import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core import templates
from assistant.errors import ValidationError


def test_render_fills_known_fields_and_aliases():
    r = templates.render("您好{客户}，{商品}今天有{优惠}", {"customer": "小王", "商品": "羽绒服", "优惠": "满300减40"})
    assert r.text == "您好小王，羽绒服今天有满300减40"
    assert r.complete


def test_missing_values_reported_and_kept_visible():
    r = templates.render("{客户}您好，{截止时间}前付款有{赠品}", {"客户": "小李", "赠品": " "})
    assert r.missing == ["截止时间", "赠品"]
    assert r.text == "小李您好，{截止时间}前付款有{赠品}"
    zh, en = r.blanks_notice()  # what a copy path without a fill-in form says instead of copying
    assert "截止时间、赠品" in zh and "小李" not in zh and "(截止时间, 赠品)" in en


def test_unknown_field_named_in_error():
    with pytest.raises(ValidationError) as info:
        templates.validate("亲，{快递单号}已经发出")
    assert "{快递单号}" in info.value.zh and "快递单号" in info.value.en
    assert info.value.field == "body"


@pytest.mark.parametrize("evil", ["{0.__class__}", "{__import__}", "{客户.__dict__}", "{!r}", "{:>10}"])
def test_format_style_attacks_are_rejected(evil):
    with pytest.raises(ValidationError):
        templates.validate("x" + evil)


def test_escaped_braces_are_literal():
    assert templates.render("满{{300}}减40，{客户}", {"客户": "A"}).text == "满{300}减40，A"


def test_unpaired_brace_is_reported_with_line():
    with pytest.raises(ValidationError) as info:
        templates.validate("第一行\n第二行 { 没闭合")
    assert "第 2 行" in info.value.zh


def test_field_spans_for_highlighting():
    body = "您好{客户}，{product}"
    spans = templates.field_spans(body)
    assert [(body[s:e], n) for s, e, n in spans] == [("{客户}", "客户"), ("{product}", "商品")]


def test_values_are_never_interpreted():
    r = templates.render("{客户}", {"客户": "{商品}{0.__class__}"})
    assert r.text == "{商品}{0.__class__}"


@given(st.text())
def test_render_never_raises_anything_but_validation(text):
    try:
        out = templates.render(text, {"客户": "王"})
    except ValidationError:
        return
    assert isinstance(out.text, str)
