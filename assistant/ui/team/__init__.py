"""Team mode in the panel: the shop library's conflicts dialog and the team state line."""
