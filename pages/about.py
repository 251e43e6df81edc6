"""About and sources: the posts and papers the lessons come from, each credited once."""

import streamlit as st

from siamese_core.sources import PAPERS, POSTS
from siamese_ui.patches import route_first_deep_link_through_app

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

st.title("About and sources")
st.markdown(
    "Siamese Lab turns five short posts about Siamese networks in Keras into lessons you can run. "
    "Each lesson names its idea on its page; the sources are credited here, once."
)

for post in POSTS:
    with st.container(border=True):
        st.markdown(
            f"**{post.title} ({post.english})**  \n{post.where}" + (f"  \n<{post.url}>" if post.url else "")
        )
        st.caption(f"Used in: {post.used_in}")

st.subheader("Papers and data")
st.markdown("\n".join(f"- {paper}" for paper in PAPERS))
