"""Reminder popup, cards and the reminders tab."""
