"""core/customers.py: buyer records, marks, masked phones, filters."""

import pytest

from assistant.core import customers
from assistant.errors import NotFoundError, ValidationError


def new(store, nick="小王", platform="千牛", shop="旗舰店"):
    return customers.get_or_create_buyer(store, platform, nick, shop)[0]


@pytest.mark.parametrize("label, code", [("千牛", "taobao"), ("淘宝", "taobao"), ("天猫", "taobao"), ("京东", "jd"),
                                         ("拼多多", "pdd"), ("AliExpress", "aliexpress"), ("速卖通", "aliexpress"),
                                         ("Amazon", "amazon"), ("亚马逊", "amazon"), ("other", "other"), ("JD", "jd")])
def test_platform_labels_map_to_store_codes(label, code):
    assert customers.normalize_platform(label) == code


def test_unknown_platform_and_state_are_bilingual_errors():
    with pytest.raises(ValidationError) as info:
        customers.normalize_platform("微信")
    assert info.value.field == "platform" and "千牛" in info.value.zh and "taobao" in info.value.en
    assert customers.normalize_state("已付款") == "paid" and customers.normalize_state("LOST") == "lost"
    with pytest.raises(ValidationError):
        customers.normalize_state("done")


def test_nickname_is_unique_per_platform_and_shop(store):
    a, created = customers.get_or_create_buyer(store, "千牛", " 小王 ", "旗舰店")
    assert created and a.nickname == "小王" and a.platform == "taobao" and a.state == "following"
    again, created = customers.get_or_create_buyer(store, "taobao", "小王", "旗舰店")
    assert not created and again.id == a.id
    other_shop = new(store, shop="二店")
    other_platform = new(store, platform="京东")
    assert len({a.id, other_shop.id, other_platform.id}) == 3
    with pytest.raises(ValidationError) as info:
        customers.find_buyer(store, "小王")
    assert "--platform" in info.value.en
    assert customers.find_buyer(store, "小王", "京东").id == other_platform.id
    assert customers.find_buyer(store, "小王", "千牛", "二店").id == other_shop.id
    assert customers.find_buyer(store, str(a.id)).id == a.id  # a number that is no nickname is an id
    with pytest.raises(NotFoundError):
        customers.find_buyer(store, "没有这个人")
    with pytest.raises(ValidationError):
        customers.update_buyer(store, other_shop.id, shop="旗舰店")  # would clash with a


@pytest.mark.parametrize("raw, masked", [("13812345678", "138****5678"), ("138 1234 5678", "138****5678"),
                                         ("+7 912 345-67-89", "+791****6789"), ("12345", "***45"),
                                         ("+1 (415) 555-0100", "+141****0100")])
def test_phone_masking(raw, masked):
    assert customers.mask_phone(customers.clean_phone(raw)) == masked


def test_phone_is_masked_everywhere_but_reveal(store):
    b = new(store)
    b = customers.update_buyer(store, b.id, phone="138-1234-5678")
    assert b.phone_masked == "138****5678" and b.has_phone
    assert "13812345678" not in str(b.to_dict()) and "13812345678" not in repr(b)
    assert "13812345678" not in str([x.to_dict() for x in customers.list_buyers(store, starred=None)])
    assert customers.reveal_phone(store, b.id) == "13812345678"
    with pytest.raises(ValidationError) as info:
        customers.update_buyer(store, b.id, phone="call me 138")
    assert "138" not in info.value.zh and "138" not in info.value.en  # never echo a number
    assert customers.update_buyer(store, b.id, phone="").phone_masked is None


def test_time_zone_language_and_open_questions(store):
    b = new(store, platform="AliExpress", nick="Ivan", shop="")
    b = customers.update_buyer(store, b.id, tz="Europe/Moscow", language="ru", open_questions=True)
    assert (b.tz, b.language, b.open_questions) == ("Europe/Moscow", "ru", True)
    assert str(b.zone()) == "Europe/Moscow"
    for bad in ("Moscow", "UTC+3", "../etc/passwd"):
        with pytest.raises(ValidationError) as info:
            customers.update_buyer(store, b.id, tz=bad)
        assert info.value.field == "tz"
    with pytest.raises(ValidationError):
        customers.update_buyer(store, b.id, language="Русский")
    assert customers.update_buyer(store, b.id, tz="").tz is None


def test_notes_set_and_append(store, clock):
    b = new(store)
    customers.update_buyer(store, b.id, notes="问了尺码")
    clock.advance(60)
    b2 = customers.append_note(store, b.id, "想要黑色")
    assert b2.notes == "问了尺码\n想要黑色" and b2.updated_at > b.updated_at
    with pytest.raises(ValidationError):
        customers.update_buyer(store, b.id, notes="x" * (customers.MAX_NOTES + 1))


def test_default_marks_and_shop_marks(store):
    names = [m.name for m in customers.list_marks(store)]
    assert names[:6] == ["咨询未付款", "意向明显", "高客单", "低客单", "售后中", "老客户"]
    own = customers.create_mark(store, "要发票", shop="旗舰店")
    assert not own.builtin and own.shop == "旗舰店"
    assert "要发票" in [m.name for m in customers.list_marks(store, "旗舰店")]
    assert "要发票" not in [m.name for m in customers.list_marks(store, "二店")]
    with pytest.raises(ValidationError):
        customers.create_mark(store, "高客单", shop="旗舰店")  # clashes with a shared mark
    with pytest.raises(ValidationError):
        customers.delete_mark(store, "高客单")
    renamed = customers.rename_mark(store, "high_ticket", "大单")
    assert renamed.code == "high_ticket" and customers.resolve_mark(store, "大单").id == renamed.id
    customers.delete_mark(store, "要发票", shop="旗舰店")
    with pytest.raises(NotFoundError):
        customers.resolve_mark(store, "要发票", "旗舰店")


def test_marks_on_buyers_and_filters(store, clock):
    a = new(store, "甲")
    b = new(store, "乙", platform="京东", shop="京东店")
    c = new(store, "丙")
    customers.create_mark(store, "要发票", shop="旗舰店")
    a = customers.set_marks(store, a.id, add=["高客单", "intent", "要发票"])
    assert a.marks == ["意向明显", "高客单", "要发票"] and a.mark_codes == ["intent", "high_ticket"]
    with pytest.raises(ValidationError):
        customers.set_marks(store, b.id, add=["要发票"])  # another shop's mark
    customers.set_marks(store, b.id, add=["低客单"])
    a = customers.set_marks(store, a.id, remove=["要发票"])
    assert a.marks == ["意向明显", "高客单"]
    customers.update_buyer(store, c.id, notes="想要黑色 XL")
    store.conn.execute("UPDATE buyers SET starred = 1")
    ids = lambda **f: sorted(x.id for x in customers.list_buyers(store, **f))  # noqa: E731
    assert ids(mark="高客单") == [a.id]
    assert ids(platform="京东") == [b.id]
    assert ids(shop="旗舰店") == sorted([a.id, c.id])
    assert ids(text="XL") == [c.id]
    assert ids(text="%") == []
    assert ids(state="已付款") == []
    assert customers.count_buyers(store, mark="low_ticket") == 1
    assert customers.shops(store) == ["京东店", "旗舰店"]
    assert customers.list_marks(store)[2].buyer_count == 1


def test_delete_buyer_removes_everything(store):
    b = new(store)
    customers.set_marks(store, b.id, add=["高客单"])
    customers.delete_buyer(store, b.id)
    with pytest.raises(NotFoundError):
        customers.get_buyer(store, b.id)
    assert store.query("SELECT count(*) AS n FROM buyer_mark_links")[0]["n"] == 0
    assert store.query("SELECT count(*) AS n FROM buyer_events")[0]["n"] == 0


def test_nickname_validation(store):
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(ValidationError):
            customers.get_or_create_buyer(store, "千牛", bad)
    b = customers.get_or_create_buyer(store, "千牛", "tab\tname\n")[0]
    assert b.nickname == "tabname"
