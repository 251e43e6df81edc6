"""About and sources: the posts and papers the lessons come from, each credited once."""

import streamlit as st

from siamese_core.i18n import _, current_language
from siamese_core.sources import PAPERS, POSTS
from siamese_ui.patches import route_first_deep_link_through_app

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

st.title(_("About and sources"))
st.markdown(
    _(
        "Siamese Lab turns five short posts about Siamese networks in Keras into lessons you can run. "
        "Each lesson names its idea on its page; the sources are credited here, once."
    )
)

for post in POSTS:
    with st.container(border=True):
        # Each post by its own Chinese title; in English with what the title says beside it.
        title = f"**{post.title}**" if current_language() == "zh" else f"**{post.title} ({post.english})**"
        st.markdown(f"{title}  \n{_(post.where)}" + (f"  \n<{post.url}>" if post.url else ""))
        st.caption(_("Used in: {pages}").format(pages=_(post.used_in)))

st.subheader(_("Papers and data"))
st.markdown("\n".join(f"- {_(paper)}" for paper in PAPERS))
