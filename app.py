"""Siamese Lab: the router. Every page lives in pages/; the core in siamese_core/."""

import streamlit as st

from siamese_core.memory import limit_malloc_arenas

limit_malloc_arenas()  # before any training thread exists: see the function's note

st.set_page_config(page_title="Siamese Lab", page_icon=":material/join_inner:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/weight_sharing.py", title="Weight-sharing lab", icon=":material/share:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
    st.Page("pages/lessons.py", title="More lessons", icon=":material/school:"),
]

st.navigation(PAGES).run()
