"""`kefu products ...` and `kefu buyers product ...`: products (商品资料, core/products.py).

assistant/cli/main.py calls register(sub, add, common); assistant/cli/buyers.py calls
register_buyer_command for `kefu buyers product NICK [PRODUCT]`. Errors are one bilingual line with
the usual exit codes (2 bad input, 4 not found, 5 bad import file).
"""

from __future__ import annotations

import argparse

from . import out as cliout

_out = cliout.out
_json = cliout.json_out

# option -> Product attribute (the text fields)
_TEXT_OPTIONS = (("short", "short_name", "short name / 简称"), ("ref", "item_ref", "link or item id / 链接或商品ID"),
                 ("price", "price_band", "price band / 价格区间"), ("material", "material", "material notes / 材质"),
                 ("size", "size", "size notes / 尺码"), ("care", "care", "care notes / 保养说明"),
                 ("gift", "gift", "gift note / 赠品"), ("promotion", "promotion", "promotion note / 优惠说明"))


def _print(product) -> None:
    _out(f"商品 Product: {product.name}  [id {product.id}]{('  简称 ' + product.short_name) if product.short_name else ''}")
    _out(f"店铺 Shop: {product.shop or '-'}    价格 Price: {product.price_band or '-'}    链接 Link: {product.item_ref or '-'}")
    _out(f"卖点 Selling points ({len(product.selling_points)}):")
    for i, point in enumerate(product.selling_points, 1):
        _out(f"  {i}. {point}")
    for label, value in (("材质 Material", product.material), ("尺码 Size", product.size), ("保养 Care", product.care),
                         ("赠品 Gift", product.gift), ("优惠 Promotion", product.promotion)):
        if value:
            _out(f"{label}: {value}")


def _fields(args: argparse.Namespace) -> dict:
    return {attr: getattr(args, opt) for opt, attr, _ in _TEXT_OPTIONS if getattr(args, opt) is not None}


def cmd_add(ctx) -> int:
    from ..core import products

    a = ctx.args
    product = products.add_product(ctx.store, a.name, shop=a.shop or "", selling_points=a.point or [], **_fields(a))
    if a.json:
        _json(product.to_dict())
    else:
        _out(f"已添加商品 Added product {product.id}: {product.name}")
    return 0


def cmd_list(ctx) -> int:
    from ..core import products

    a = ctx.args
    items = products.list_products(ctx.store, shop=a.shop, query=a.search)
    if a.json:
        _json([p.to_dict() for p in items])
        return 0
    cliout.table([[str(p.id), p.shop or "-", p.name, p.short_name or "-", p.price_band or "-", str(len(p.selling_points)),
                   p.gift or "-", p.promotion or "-"] for p in items],
                 ["ID", "店铺", "商品", "简称", "价格", "卖点", "赠品", "优惠"], [6, 14, 28, 12, 12, 4, 16, 20])
    _out(f"{len(items)} products / 共 {len(items)} 个商品")
    return 0


def cmd_show(ctx) -> int:
    from ..core import products

    product = products.get_product(ctx.store, ctx.args.product, ctx.args.shop)
    if ctx.args.json:
        _json(product.to_dict())
    else:
        _print(product)
    return 0


def cmd_edit(ctx) -> int:
    from ..core import products

    a = ctx.args
    product = products.get_product(ctx.store, a.product, a.shop)
    changes = _fields(a)
    if a.name is not None:
        changes["name"] = a.name
    if a.new_shop is not None:
        changes["shop"] = a.new_shop
    if a.point is not None:
        changes["selling_points"] = a.point
    if a.add_point:
        changes["selling_points"] = [*(changes.get("selling_points") or product.selling_points), *a.add_point]
    if not changes:
        from ..errors import ValidationError

        raise ValidationError("没有要修改的内容（例如 --point、--gift）", "Nothing to change (e.g. --point, --gift)",
                              field="product")
    product = products.edit_product(ctx.store, product.id, **changes)
    if a.json:
        _json(product.to_dict())
    else:
        _out(f"已修改商品 Updated product {product.id}: {product.name}")
    return 0


def cmd_rm(ctx) -> int:
    from ..core import products

    product = products.get_product(ctx.store, ctx.args.product, ctx.args.shop)
    products.delete_product(ctx.store, product.id)
    _out(f"已删除商品 Deleted product {product.id}: {product.name}")
    return 0


def cmd_import(ctx) -> int:
    from ..core import products

    result = products.import_file(ctx.store, ctx.args.file, shop=ctx.args.shop)
    if ctx.args.json:
        _json({"added": result.added, "updated": result.updated})
    else:
        _out(f"已导入 Imported: 新增 {result.added} added, 更新 {result.updated} updated")
    return 0


def cmd_export(ctx) -> int:
    from ..core import products

    n = products.export_file(ctx.store, ctx.args.file, shop=ctx.args.shop)
    _out(f"已导出 {n} 个商品 Exported {n} products: {ctx.args.file}")
    return 0


def cmd_template(ctx) -> int:
    from ..core import products

    products.export_file(ctx.store, ctx.args.file, template=True)
    _out(f"已写出模板（一行示例，可直接改）Template written (one example row): {ctx.args.file}")
    return 0


def cmd_buyer_product(ctx) -> int:
    """`kefu buyers product NICK [PRODUCT] [--choose | --remove]`."""
    from ..core import customers, products

    a = ctx.args
    buyer = customers.find_buyer(ctx.store, a.nickname, a.platform, a.shop)
    if a.product is not None:
        if a.remove:
            product = products.unlink(ctx.store, buyer.id, a.product)
            _out(f"已取消关联 Unlinked: {product.name}")
        else:
            product = products.link(ctx.store, buyer.id, a.product, choose=a.choose)
            _out(f"已关联商品 Linked: {product.name}{'（填空用这个 / used for fill-ins）' if a.choose else ''}")
    found = products.links(ctx.store, buyer.id)
    if a.json:
        _json([{**link.product.to_dict(), "chosen": link.chosen, "linked_at": link.linked_at,
                "current": i == 0} for i, link in enumerate(found)])
        return 0
    for i, link in enumerate(found):
        flag = "  ← 填空 fill-ins" if i == 0 else ""
        _out(f"  {link.product.id:>4}  {link.product.name}{' ★' if link.chosen else ''}{flag}")
    if not found:
        _out("这位买家还没有关联商品 / No product linked yet (kefu buyers product NICK PRODUCT)")
    return 0


def register_buyer_command(bsub, add, who) -> None:
    p = add(bsub, "product", cmd_buyer_product,
            "link the product a buyer asked about, or list theirs / 关联买家咨询的商品", True)
    who(p)
    p.add_argument("product", metavar="PRODUCT", nargs="?", help="product id, name or short name / 商品")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--choose", action="store_true", help="fill-ins use this one even after later links / 填空用这个")
    g.add_argument("--remove", action="store_true", help="unlink it / 取消关联")


def register(sub, add, common) -> None:
    products_p = sub.add_parser("products", help="products: selling points, notes, import / 商品资料", parents=[common])
    psub = products_p.add_subparsers(dest="subcommand", metavar="ACTION", required=True)

    def text_options(p: argparse.ArgumentParser) -> None:
        for opt, _, help_text in _TEXT_OPTIONS:
            p.add_argument(f"--{opt}", help=help_text)

    p = add(psub, "add", cmd_add, "add a product / 添加商品", True)
    p.add_argument("name", help="product name / 商品名称")
    p.add_argument("--shop", help="shop / 店铺")
    p.add_argument("--point", action="append", help="a selling point (repeatable, in order) / 卖点（可多次）")
    text_options(p)
    p = add(psub, "list", cmd_list, "list products / 商品列表", True)
    p.add_argument("--shop")
    p.add_argument("--search", help="text in the name, short name or link")
    p = add(psub, "show", cmd_show, "one product / 查看商品", True)
    p.add_argument("product", metavar="PRODUCT", help="id, name or short name")
    p.add_argument("--shop")
    p = add(psub, "edit", cmd_edit, "change a product / 修改商品", True)
    p.add_argument("product", metavar="PRODUCT", help="id, name or short name")
    p.add_argument("--shop", help="the product's shop (when two shops have the same name)")
    p.add_argument("--name", help="new name / 新名称")
    p.add_argument("--new-shop", help="move to another shop / 改店铺")
    p.add_argument("--point", action="append", help="replace the selling points (repeatable) / 替换卖点")
    p.add_argument("--add-point", action="append", help="append a selling point (repeatable) / 追加卖点")
    text_options(p)
    p = add(psub, "rm", cmd_rm, "delete a product (its buyer links go too) / 删除商品")
    p.add_argument("product", metavar="PRODUCT", help="id, name or short name")
    p.add_argument("--shop")
    p = add(psub, "import", cmd_import, "import products from CSV or XLSX (all or nothing) / 导入商品", True)
    p.add_argument("file", help=".csv or .xlsx; headers in README (Products)")
    p.add_argument("--shop", help="shop for rows without a 店铺 value")
    p = add(psub, "export", cmd_export, "export products to CSV or XLSX / 导出商品")
    p.add_argument("file", help=".csv or .xlsx")
    p.add_argument("--shop")
    p = add(psub, "template", cmd_template, "write an import template (.csv or .xlsx) / 导出导入模板")
    p.add_argument("file", help=".csv or .xlsx")
