"""The handover tab and its dialogs."""
