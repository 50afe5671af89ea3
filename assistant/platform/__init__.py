"""See shared/design.md for what lives here."""
