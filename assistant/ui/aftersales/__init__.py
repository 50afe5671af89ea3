"""The 售后 tab: after-sales cases (core/aftersales.py) in the panel."""
