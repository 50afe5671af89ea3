"""The desktop UI: the side panel, its dialogs, the tray icon. Receives core and platform objects
from assistant.app; never imports assistant.platform."""
