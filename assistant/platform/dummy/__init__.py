"""No global hotkeys: copy and tell the agent to press Ctrl+V."""
