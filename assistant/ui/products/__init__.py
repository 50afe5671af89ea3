"""The 商品 (products) tab."""
