"""The buyers tab and its star (follow-up) dialog."""
