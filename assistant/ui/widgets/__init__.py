"""Widgets and helpers shared by every tab: style, icons, translations, docking, tray."""
