"""The 商品 tab, the product chip of the 客户 tab and the star dialog's product (offscreen)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit

from assistant.core import customers, products, reminders
from assistant.errors import NotFoundError
from assistant.ui.products.products_tab import ProductsTab
from assistant.ui.widgets import i18n

CJK = re.compile(r"[\u4e00-\u9fff]")
SHOTS = Path(os.environ.get("KEFU_SHOTS", "")) if os.environ.get("KEFU_SHOTS") else None


@pytest.fixture
def tab(worker, qtbot):
    t = ProductsTab(worker)
    qtbot.addWidget(t)
    t.resize(380, 720)
    t.show()
    qtbot.waitUntil(lambda: t.empty.isVisible(), timeout=5000)
    return t


def fill(tab, **values):
    for attr, value in values.items():
        widget = tab.inputs[attr]
        widget.setText(value) if isinstance(widget, QLineEdit) else widget.setPlainText(value)


def test_add_then_edit_a_product(qtbot, tab, store):
    fill(tab, name="不锈钢保温杯", short_name="保温杯", selling_points="杯盖防漏\n\n12 小时保温\n", gift="杯套")
    with qtbot.waitSignal(tab.saved, timeout=5000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    p = products.get_product(store, "保温杯")
    assert p.selling_points == ("杯盖防漏", "12 小时保温") and p.gift == "杯套"
    qtbot.waitUntil(lambda: tab.list.count() == 1 and not tab.empty.isVisible(), timeout=5000)
    assert "2 条卖点" in tab.list.item(0).text()
    assert tab.editor_title.text() == "编辑商品"
    fill(tab, material="316 不锈钢")
    with qtbot.waitSignal(tab.saved, timeout=5000):
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert products.get_product(store, p.id).material == "316 不锈钢"
    assert len(products.list_products(store)) == 1  # edited, not added again


def test_a_bad_value_shows_one_line_and_stores_nothing(qtbot, tab, store):
    fill(tab, name="杯" * 61)
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.error.isVisible(), timeout=5000)
    assert "商品名称太长" in tab.error.text() and "\n" not in tab.error.text()
    assert products.list_products(store) == []


def test_select_search_and_delete(qtbot, tab, store):
    products.add_product(store, "羊毛围巾", selling_points=["手工"])
    products.add_product(store, "保温杯")
    tab.refresh()
    qtbot.waitUntil(lambda: tab.list.count() == 2, timeout=5000)
    tab.list.setCurrentRow([tab.list.item(i).text().split("\n")[0] for i in range(2)].index("羊毛围巾"))
    assert tab.inputs["name"].text() == "羊毛围巾" and tab.inputs["selling_points"].toPlainText() == "手工"
    with qtbot.waitSignal(tab.saved, timeout=5000):
        qtbot.mouseClick(tab.delete_button, Qt.MouseButton.LeftButton)
    assert [p.name for p in products.list_products(store)] == ["保温杯"]
    assert tab.current is None and tab.inputs["name"].text() == ""
    tab.search.setText("围巾")
    qtbot.waitUntil(lambda: tab.list.count() == 0 and tab.empty.text() == "没有找到商品", timeout=5000)


def test_import_and_export_through_the_tab(qtbot, tab, store, tmp_path):
    sheet = tmp_path / "shop.csv"
    sheet.write_text("商品名称,卖点\n保温杯,防漏|保温\n", encoding="utf-8")
    got = []
    tab.messages.message.connect(got.append)
    tab.import_from(sheet)
    qtbot.waitUntil(lambda: tab.list.count() == 1, timeout=5000)
    assert products.get_product(store, "保温杯").selling_points == ("防漏", "保温")
    out = tmp_path / "out.xlsx"
    tab.choose_file = lambda _parent, kind, suggested: str(out) if kind == "save" else None
    tab.export_dialog(template=False)
    qtbot.waitUntil(lambda: out.exists(), timeout=5000)
    assert products.read_rows(out)[0]["name"] == "保温杯"
    bad = tmp_path / "bad.csv"
    bad.write_text("卖点\n好\n", encoding="utf-8")
    tab.import_from(bad)
    qtbot.waitUntil(lambda: any(m.level == "warning" for m in got), timeout=5000)
    assert "商品名称" in next(m.zh for m in got if m.level == "warning")
    assert len(products.list_products(store)) == 1


def test_the_tab_is_complete_in_english(qtbot, tab):
    assert i18n.install("en")
    qtbot.waitUntil(lambda: tab.save_button.text() == "Save", timeout=5000)
    texts = [w.text() for w in tab.findChildren(QLabel) + tab.findChildren(QAbstractButton)]
    texts += [w.placeholderText() for w in tab.findChildren(QLineEdit) + tab.findChildren(QPlainTextEdit)]
    texts += [a.text() for a in tab.more_menu.actions()]
    assert [t for t in texts if t and CJK.search(t)] == []


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshot_at_panel_width(qtbot, tab, store, lang, tmp_path):
    """The tab at 360 px with a product open: every label and field fits (nothing cut)."""
    products.add_product(store, "不锈钢保温杯 500ml", short_name="保温杯", price_band="79-99元",
                         selling_points=["杯盖带防漏硅胶圈，放包里不怕洒", "316 不锈钢内胆，装热水 12 小时后还是温的"],
                         material="316 不锈钢内胆", size="500ml", gift="杯套一个")
    i18n.install(lang)
    tab.resize(360, 720)
    tab.refresh()
    qtbot.waitUntil(lambda: tab.list.count() == 1, timeout=5000)
    tab.list.setCurrentRow(0)
    qtbot.wait(50)
    for attr, label in tab.labels.items():
        assert label.width() >= label.sizeHint().width(), attr  # the label is not cut
        assert tab.inputs[attr].width() >= 150, attr
    assert tab.save_button.width() >= tab.save_button.sizeHint().width()
    shot = tab.grab()
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    assert shot.save(str(folder / f"products_tab_{lang}.png"))


# ---------------------------------------------------------------- the 客户 tab and the star dialog


@pytest.fixture
def buyers_tab(worker, qtbot, store):
    from assistant.ui.buyers.buyers_tab import BuyersTab
    from assistant.ui.reminders.reminders import ChaseActions

    reminders.star(store, platform="taobao", nickname="小鱼")
    products.add_product(store, "保温杯", selling_points=["防漏", "保温"], material="316 不锈钢")
    t = BuyersTab(worker, ChaseActions(worker))
    qtbot.addWidget(t)
    t.resize(380, 720)
    t.show()
    qtbot.waitUntil(lambda: t.list.count() == 1, timeout=5000)
    return t


def test_link_a_product_from_the_buyers_tab_and_the_context_fills(qtbot, buyers_tab, store):
    contexts = []
    buyers_tab.context_changed.connect(contexts.append)
    buyers_tab.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: buyers_tab.product_menu is not None, timeout=5000)
    assert buyers_tab.product_button.text() == "关联咨询的商品…"
    action = next(a for a in buyers_tab.product_menu.actions() if a.text() == "保温杯")
    action.trigger()
    buyer = customers.find_buyer(store, "小鱼")
    qtbot.waitUntil(lambda: buyers_tab.product_button.text() == "商品：保温杯", timeout=5000)
    assert products.current(store, buyer.id).name == "保温杯"
    assert contexts[-1] == {"客户": "小鱼", "商品": "保温杯", "卖点": "防漏", "材质": "316 不锈钢"}
    next(a for a in buyers_tab.product_menu.actions() if a.text() == "取消关联").trigger()
    qtbot.waitUntil(lambda: buyers_tab.product_button.text() == "关联咨询的商品…", timeout=5000)
    assert products.current(store, buyer.id) is None


def test_the_star_dialog_links_the_product_in_the_same_transaction(qtbot, worker, store):
    from assistant.ui.buyers.star_dialog import StarDialog

    products.add_product(store, "保温杯")
    dialog = StarDialog(worker, nickname="新买家", platform="taobao")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.product.count() == 2, timeout=5000)
    dialog.product.setCurrentIndex(dialog.product.findText("保温杯"))
    with qtbot.waitSignal(dialog.starred, timeout=5000):
        dialog.submit()
    buyer = customers.find_buyer(store, "新买家")
    assert buyer.starred and products.current(store, buyer.id).name == "保温杯"
    # the product deleted meanwhile: nothing is starred, the dialog says why
    other = StarDialog(worker, nickname="另一位", platform="taobao")
    qtbot.addWidget(other)
    qtbot.waitUntil(lambda: other.product.count() == 2, timeout=5000)
    other.product.setCurrentIndex(1)
    products.delete_product(store, "保温杯")
    other.submit()
    qtbot.waitUntil(lambda: not other.error.isHidden(), timeout=5000)
    assert "没有找到商品" in other.error.text()
    with pytest.raises(NotFoundError):
        customers.find_buyer(store, "另一位")


def test_buyers_tab_screenshot_with_the_product_chip(qtbot, buyers_tab, store, tmp_path):
    buyer = customers.find_buyer(store, "小鱼")
    products.link(store, buyer.id, "保温杯")
    buyers_tab.resize(360, 720)
    buyers_tab.refresh()  # as after a change made elsewhere (kefu buyers product): the buyer is shown again
    qtbot.waitUntil(lambda: buyers_tab.product_button.text() == "商品：保温杯", timeout=5000)
    assert buyers_tab.product_button.width() >= buyers_tab.product_button.sizeHint().width()
    folder = SHOTS or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    assert buyers_tab.grab().save(str(folder / "buyers_tab_product_zh_CN.png"))


def test_the_products_window_opens_from_the_buyers_tab_once(qtbot, buyers_tab):
    from assistant.ui.products.products_tab import ProductsDialog

    qtbot.mouseClick(buyers_tab.products_button, Qt.MouseButton.LeftButton)
    dialog = next(d for d in buyers_tab._dialogs if isinstance(d, ProductsDialog))
    qtbot.waitUntil(lambda: dialog.view.list.count() == 1, timeout=5000)
    assert dialog.windowTitle() == "商品资料"
    assert buyers_tab.open_products() is dialog  # a second click brings the same window forward
    buyers_tab.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: buyers_tab.product_menu is not None, timeout=5000)
    assert [a.text() for a in buyers_tab.product_menu.actions() if a.text()][-1] == "管理商品资料…"
    dialog.close()


def test_a_shops_product_is_read_only_for_an_agent_in_team_mode(qtbot, tab, store):
    from assistant.core import settings

    shop_product = products.add_product(store, "不锈钢保温杯", selling_points=["杯盖防漏"])
    products.add_product(store, "羊毛围巾")
    with store.write() as db:  # as a pull of the shop's list lands it
        db.execute("UPDATE products SET team_shop = 's1', shop_version = 1 WHERE id = ?", (shop_product.id,))
    settings.set(store, "team.server", "postgresql://kefu.example/kefu")
    settings.set(store, "team.role", "kefu_t1_li")
    settings.set(store, "team.kind", "agent")
    tab.refresh()
    qtbot.waitUntil(lambda: tab.list.count() == 2, timeout=5000)
    names = [tab.list.item(i).text().split("\n")[0] for i in range(2)]
    tab.list.setCurrentRow(names.index("不锈钢保温杯"))
    assert tab.editor_title.text() == "店铺商品（只读）"
    assert tab.inputs["name"].isReadOnly() and not tab.save_button.isEnabled() and not tab.delete_button.isEnabled()
    assert "主管" in tab.save_button.toolTip()
    tab.list.setCurrentRow(names.index("羊毛围巾"))  # this PC's own product stays editable
    assert not tab.inputs["name"].isReadOnly() and tab.save_button.isEnabled()
    settings.set(store, "team.kind", "supervisor")
    tab.refresh()
    qtbot.waitUntil(lambda: tab.supervisor, timeout=5000)
    tab.list.setCurrentRow(names.index("不锈钢保温杯"))
    assert tab.editor_title.text() == "编辑商品" and tab.save_button.isEnabled()
