"""Home: what a Siamese network is, what each page teaches, what this server runs on."""

import pandas as pd
import streamlit as st

from siamese_core.config import DEFAULT_PRESET, PRESETS
from siamese_ui.lesson import STEPS, start_button
from siamese_ui.navigation import PAGES, switch_to
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.resources import device, resolved_dataset_name
from siamese_ui.train_form import PRESET, load_preset

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

st.title("Siamese Lab")
st.markdown(
    """
A **Siamese network** answers one question: *are these two things the same kind of thing?*
It runs **one** feature extractor (the *branch*) on both inputs, so similar inputs land near
each other in an *embedding space*, and compares the two embeddings with a **distance**.
Trained on pairs labelled *same* / *different* with the **contrastive loss**, it learns a
notion of similarity that works even for classes it never saw: the trick behind face
verification, signature checking and one-shot learning.
"""
)
st.graphviz_chart(
    """
digraph { rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica];
  a [label="digit A", shape=oval]; b [label="digit B", shape=oval];
  f [label="feature branch\\n(ONE set of weights)", color="#2e7d32", penwidth=2];
  d [label="distance\\n||f(A) - f(B)||"]; v [label="same digit?\\ndistance < threshold", shape=diamond];
  a -> f; b -> f; f -> d [label="f(A)"]; f -> d [label="f(B)"]; d -> v; }
""",
    width="content",
)
with st.expander("The picture in words"):
    st.markdown(
        "Digit A and digit B both go into one feature branch, with one set of weights. Its two outputs, "
        "f(A) and f(B), go into the distance ||f(A) - f(B)||, and the answer is *same digit* when that "
        "distance is below a threshold."
    )

st.subheader("New here? Take the guided lesson")
st.caption(
    f"{len(STEPS)} short steps through the pages, each one box at the top of the page: what to predict, "
    "what to try, what to notice. The **Guided lesson** switch in the sidebar turns it off and on."
)
start_button()

name, reason = resolved_dataset_name()
col1, col2 = st.columns(2)
col1.metric("Data set in use", "Full MNIST" if name == "mnist" else "MNIST 5k subset")
col1.caption(reason)
device_slot = col2.empty()  # filled at the end: the page is readable before TensorFlow loads
col2.caption("TensorFlow uses a GPU automatically when it sees one.")

st.subheader("What each page teaches")
st.table(  # one row per page of the navigation, from the one page table (siamese_ui/navigation.py)
    pd.DataFrame(
        [(page.title, page.teaches) for page in PAGES if not page.default], columns=["Page", "The lesson"]
    ),
    hide_index=True,
)


def preset_buttons() -> None:
    """One click sets up the Train page with a preset (edited fields are reset to it)."""
    st.subheader("Presets for class")
    st.caption("One click sets up the Train page with that preset; fields you edited there are reset.")
    columns = st.columns(3)
    for k, (name, config) in enumerate(PRESETS.items()):
        if columns[k % 3].button(
            name,
            key=f"home.preset.{name}",
            width="stretch",
            help=f"{config.branch} branch, {config.head} head, {config.optimizer}, {config.epochs} epochs",
        ):
            load_preset(name)
            # The preset goes into the address, as the Train page's own Preset box puts it there:
            # a reload or a shared link then reopens this preset (the fields default to it).
            switch_to("train", {} if name == DEFAULT_PRESET else {PRESET: name})


preset_buttons()
device_slot.metric("Device", device())
