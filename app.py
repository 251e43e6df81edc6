"""Siamese Lab: the router. Every page lives in pages/; the core in siamese_core/."""

import streamlit as st

st.set_page_config(page_title="Siamese Lab", page_icon="👯", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon="🏠", default=True),
    st.Page("pages/weight_sharing.py", title="Weight-sharing lab", icon="🔗", url_path="weight-sharing"),
    st.Page("pages/train.py", title="Train", icon="🏋️", url_path="train"),
    st.Page("pages/embeddings.py", title="Embeddings", icon="🌌", url_path="embeddings"),
    st.Page("pages/compare.py", title="Compare", icon="⚖️", url_path="compare"),
    st.Page("pages/evaluate.py", title="Evaluate", icon="📏", url_path="evaluate"),
]

st.navigation(PAGES).run()
