"""kefu-assistant (客服助手): a side panel of quick replies, paste hotkeys and chase reminders."""

__version__ = "0.1.0"
APP_NAME = "kefu-assistant"
