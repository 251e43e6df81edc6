"""Home: what a Siamese network is, what each page teaches, what this server runs on."""

import pandas as pd
import streamlit as st

from siamese_core.config import DEFAULT_PRESET, PRESETS
from siamese_core.i18n import _, ngettext
from siamese_ui.lesson import STEPS, start_button
from siamese_ui.navigation import PAGES, switch_to
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.resources import device_now, resolved_dataset_name
from siamese_ui.train_form import PRESET, load_preset

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py


def dot_label(text: str) -> str:
    """A translated label inside the DOT source: its line breaks and quotes as DOT writes them."""
    return text.replace('"', r"\"").replace("\n", r"\n")


st.title("Siamese Lab")
st.markdown(
    _(
        """
A **Siamese network** answers one question: *are these two things the same kind of thing?*
It runs **one** feature extractor (the *branch*) on both inputs, so similar inputs land near
each other in an *embedding space*, and compares the two embeddings with a **distance**.
Trained on pairs labelled *same* / *different* with the **contrastive loss**, it learns a
notion of similarity that works even for classes it never saw: the trick behind face
verification, signature checking and one-shot learning.
"""
    )
)
labels = {
    "a": _("digit A"),
    "b": _("digit B"),
    "f": _("feature branch\n(ONE set of weights)"),
    "d": _("distance") + "\n||f(A) - f(B)||",
    "v": _("same digit?\ndistance < threshold"),
}
labels = {node: dot_label(text) for node, text in labels.items()}
st.graphviz_chart(
    f"""
digraph {{ rankdir=LR; node [shape=box, style=rounded, fontname=Helvetica];
  a [label="{labels["a"]}", shape=oval]; b [label="{labels["b"]}", shape=oval];
  f [label="{labels["f"]}", color="#2e7d32", penwidth=2];
  d [label="{labels["d"]}"]; v [label="{labels["v"]}", shape=diamond];
  a -> f; b -> f; f -> d [label="f(A)"]; f -> d [label="f(B)"]; d -> v; }}
""",
    width="content",
)
with st.expander(_("The picture in words")):
    st.markdown(
        _(
            "Digit A and digit B both go into one feature branch, with one set of weights. Its two outputs, "
            "f(A) and f(B), go into the distance ||f(A) - f(B)||, and the answer is *same digit* when that "
            "distance is below a threshold."
        )
    )

st.subheader(_("New here? Take the guided lesson"))
st.caption(
    ngettext(
        "{steps} short step through the pages, each one box at the top of the page: what to predict, what to "
        "try, what to notice. The **Guided lesson** switch in the sidebar turns it off and on.",
        "{steps} short steps through the pages, each one box at the top of the page: what to predict, what to "
        "try, what to notice. The **Guided lesson** switch in the sidebar turns it off and on.",
        len(STEPS),
    ).format(steps=len(STEPS))
)
start_button()

DEVICE_POLLING = not device_now()  # a fresh server: the service is still loading TensorFlow


@st.fragment(run_every=2.0 if DEVICE_POLLING else None)
def device_metric() -> None:
    """The device the model service computes on; "starting…" until it has started (never waited
    for: a fresh server's first visitor reads Home at once), then filled in by itself."""
    name = device_now()
    st.metric(_("Device"), name or _("starting…"))
    if name and DEVICE_POLLING:
        st.rerun()  # the page's next run draws it without polling


name, reason = resolved_dataset_name()
col1, col2 = st.columns(2)
col1.metric(_("Data set in use"), _("Full MNIST") if name == "mnist" else _("MNIST 5k subset"))
col1.caption(reason)
with col2:
    device_metric()
col2.caption(_("TensorFlow uses a GPU automatically when it sees one."))

st.subheader(_("What each page teaches"))
st.table(  # one row per page of the navigation, from the one page table (siamese_ui/navigation.py)
    pd.DataFrame(
        [(page.name, _(page.teaches)) for page in PAGES if not page.default],
        columns=[_("Page"), _("The lesson")],
    ),
    hide_index=True,
)


def preset_buttons() -> None:
    """One click sets up the Train page with a preset (edited fields are reset to it)."""
    st.subheader(_("Presets for class"))
    st.caption(_("One click sets up the Train page with that preset; fields you edited there are reset."))
    columns = st.columns(3)
    for k, (name, config) in enumerate(PRESETS.items()):
        if columns[k % 3].button(
            name,  # the preset's name, as the Train page's Preset box and the links spell it
            key=f"home.preset.{name}",
            width="stretch",
            help=ngettext(
                "{branch} branch, {head} head, {optimizer}, {epochs} epoch",
                "{branch} branch, {head} head, {optimizer}, {epochs} epochs",
                config.epochs,
            ).format(
                branch=config.branch, head=config.head, optimizer=config.optimizer, epochs=config.epochs
            ),
        ):
            load_preset(name)
            # The preset goes into the address, as the Train page's own Preset box puts it there:
            # a reload or a shared link then reopens this preset (the fields default to it).
            switch_to("train", {} if name == DEFAULT_PRESET else {PRESET: name})


preset_buttons()
