"""Siamese Lab's pages, one file each; what several pages share lives in ``siamese_ui``."""
