"""Siamese Lab's pages. ``_common`` holds what several pages share; the rest are pages."""
