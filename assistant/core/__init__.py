"""GUI-free logic: the store, replies, search, templates, cadences. Never imports Qt."""
