"""Siamese Lab's shared UI code: what several pages use (the page table, session keys, cached
resources, run control, the canvas, the live panel, the SVG chart, digit pictures) and the
guarded Streamlit patches (``patches.py``, applied by explicit calls only). Pages live in
``pages/``; everything that computes lives in ``siamese_core`` (which never imports streamlit).
"""
