"""Weight-sharing lab: one branch called twice vs two branches, and the pitfall of a
layer-building function called once per input."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from siamese_core.config import BRANCHES, HEADS, SiameseConfig
from siamese_core.lessons.n_inputs import LARGEST_N, MULTI_INPUT_CODE, Build
from siamese_core.lessons.n_inputs import counts as n_input_counts
from siamese_core.results import LabNumbers
from siamese_ui.charts import chart
from siamese_ui.formatting import column_config
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.race_view import race_ui
from siamese_ui.shared import DEFAULT_LAB, lab_numbers

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

# Widget keys, each also the link's query parameter: a shared link reopens the same lab.
SHARED, BRANCH, HEAD, DIM, N_INPUTS = "ws.shared", "ws.branch", "ws.head", "ws.dim", "ws.n_inputs"
DEFAULT_DIM = {
    "mlp": DEFAULT_LAB["embedding_dim"],
    "cnn": 64,
    "tiny-cnn": 32,
    "matchnet": 512,
}  # each branch's size in its preset
DIMS = [2, 8, 16, 32, 64, 128, 256, 512]
DEFAULT_N_INPUTS = 6  # the N-input post's six images


def _reset_dim() -> None:
    st.session_state[DIM] = DEFAULT_DIM[st.session_state[BRANCH]]


def choice_ui() -> SiameseConfig:
    """Sharing, branch, head and embedding size, bound to the link."""
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
    shared = c1.toggle("Share weights between the branches", value=True, key=SHARED, bind="query-params")
    branch = c2.selectbox(
        "Branch (feature extractor)", BRANCHES, key=BRANCH, bind="query-params", on_change=_reset_dim
    )
    head = c3.selectbox(
        "Head",
        HEADS,
        key=HEAD,
        bind="query-params",
        help="distance: Euclidean distance + contrastive loss (the Keras example). "
        "matchnet: concatenate + 3 dense layers + softmax (MatchNet).",
    )
    dim = c4.select_slider("Embedding size", DIMS, value=DEFAULT_DIM[branch], key=DIM, bind="query-params")
    return SiameseConfig(branch=branch, head=head, shared=shared, embedding_dim=dim)


def parameter_figures(numbers: LabNumbers, other: LabNumbers, shared: bool) -> None:
    now, alt = numbers.breakdown, other.breakdown
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Total parameters",
        f"{now.total:,}",
        delta=f"{now.total - alt.total:+,} vs {'unshared' if shared else 'shared'}",
        delta_color="inverse",
        delta_arrow="off",  # the sign says it: "↓ -133,504" said it twice
    )
    m2.metric("Trainable", f"{now.trainable:,}")
    m3.metric("Non-trainable", f"{now.non_trainable:,}")
    m4.metric("One feature branch", f"{now.branch:,}")
    unshared_total, shared_total = (alt.total, now.total) if shared else (now.total, alt.total)
    extra = unshared_total - shared_total
    st.markdown(
        f"**Shared.** One branch object serves both inputs, so its {now.branch:,} parameters are stored once. "
        f"Unsharing would add a second copy: **+{extra:,} parameters**."
        if shared
        else f"**Unshared.** The unshared model carries a second copy of the feature extractor: "
        f"**+{extra:,} parameters** ({unshared_total:,} instead of {shared_total:,})."
    )
    st.caption(f"Keras's own `model.count_params()` for this model: {numbers.count_params:,}.")


def breakdown_and_graph(numbers: LabNumbers) -> None:
    left, right = st.columns([1, 1])
    components = numbers.breakdown.components
    with left:
        st.subheader("Where the parameters live")
        frame = pd.DataFrame(
            [
                {
                    "component": c.name,
                    "parameters": c.total,
                    "used by": ", ".join(c.used_by) or "both embeddings",
                }
                for c in components
            ]
        )
        figure = px.bar(
            frame,
            x="component",
            y="parameters",
            color="component",
            text="parameters",
            hover_data=["used by"],
            color_discrete_sequence=px.colors.qualitative.Set2,
        )
        figure.update_traces(texttemplate="%{text:,}", textposition="outside")
        figure.update_layout(showlegend=False, height=330, margin=dict(t=20, b=10), yaxis_title="parameters")
        chart(
            figure,
            "Parameters per component: "
            + ", ".join(f"{c.name} {c.total:,}" for c in components)
            + f"; {sum(c.total for c in components):,} in all.",
            key="ws.chart",
            table_on_page=True,  # the components table beside it
        )
        table = pd.DataFrame(
            [
                {
                    "component": c.name,
                    "total": c.total,
                    "trainable": c.trainable,
                    "non-trainable": c.non_trainable,
                    "used by": ", ".join(c.used_by) or "—",
                }
                for c in components
            ]
        )
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config(table))
    with right:
        st.subheader("Architecture")
        st.graphviz_chart(numbers.dot, width="stretch")
        with st.expander("The graph in words"):
            st.markdown(numbers.graph_text)


def sharing_proof(numbers: LabNumbers) -> None:
    st.subheader("Proof that sharing is real")
    st.markdown("The same test digit goes through the branch of input A and the branch of input B:")
    picture, table = st.columns([1, 4])
    picture.image(
        digit_image(numbers.digit),
        caption="the digit",
        width=112,
        alt=f"Digit {numbers.digit_label} from the embedded 5,000 digits, the one sent through both branches.",
    )
    emb_a, emb_b = numbers.emb_a, numbers.emb_b
    largest_difference = float(np.max(np.abs(emb_a - emb_b)))
    # the 8 dimensions where the two embeddings are largest (a ReLU embedding has many zeros)
    dims = np.sort(np.argsort(-(np.abs(emb_a) + np.abs(emb_b)))[:8])
    table.dataframe(
        pd.DataFrame(
            {"dimension": dims, "via branch of input A": emb_a[dims], "via branch of input B": emb_b[dims]}
        ),
        hide_index=True,
        width="stretch",
    )
    if largest_difference == 0.0:
        table.success(
            f"Identical embeddings (largest difference {largest_difference:.1e}): both inputs use one "
            "set of weights."
        )
    else:
        table.warning(
            f"Different embeddings (largest difference {largest_difference:.3f}): two independently "
            "initialised branches."
        )


def multi_input_pitfall() -> None:
    st.subheader("The pitfall: a layer-building function called once per input")
    st.markdown(
        "A CNN + LSTM over **N images**. Calling a function that *creates* layers once per input gives "
        "every input its own copy of the whole stack. Two fixes share it: instantiate the layers once and "
        "call them on each input, or call the building function **once**, inside one `keras.Model`, and call "
        "that model on each input. The model runs either way: only the parameter count tells."
    )
    n = st.slider("Number of inputs N", 2, LARGEST_N, DEFAULT_N_INPUTS, key=N_INPUTS, bind="query-params")
    counts = n_input_counts(n)  # measured on the built networks (siamese_core/lessons/n_inputs.py)
    q1, q2, q3, q4 = st.columns(4)
    q1.metric("Layers instantiated once (right)", f"{counts.reused:,}")
    q2.metric("Builder wrapped in one keras.Model (right)", f"{counts.wrapped:,}")
    q3.metric(
        "Builder called per input (mistaken)",
        f"{counts.rebuilt:,}",
        delta=f"+{counts.extra:,}",
        delta_color="inverse",
        delta_arrow="off",
    )
    q4.metric("Ratio", f"{counts.rebuilt / counts.reused:.2f}×")  # the digits of the sentence below
    same = counts.wrapped == counts.reused
    st.markdown(
        f"The two fixes build **{'the same number of' if same else 'different numbers of'} parameters** "
        f"({counts.reused:,} and {counts.wrapped:,}): one CNN stack of **{counts.stack:,}**, plus the "
        f"LSTM and output layer, **{counts.head:,}**. **Why the ratio stays below N:** the mistake copies the "
        f"stack, never the head, so rebuilt / right = (N · stack + head) / (stack + head) = "
        f"({n} · {counts.stack:,} + {counts.head:,}) / ({counts.stack:,} + {counts.head:,}) = "
        f"**{(n * counts.stack + counts.head) / (counts.stack + counts.head):.2f}**, "
        f"not {n}: the head is paid once in both."
    )
    with st.expander("Parameters against N, all three builds", expanded=True):
        series = [n_input_counts(k) for k in range(2, n + 1)]
        builds = (
            (Build.REUSED, "layers instantiated once"),
            (Build.WRAPPED, "builder wrapped in one keras.Model"),
            (Build.REBUILT, "builder called per input"),
        )
        long = pd.DataFrame(
            [
                {"N": c.inputs, "build": label, "parameters": c.of(build)}
                for build, label in builds
                for c in series
            ]
        )
        figure = px.line(long, x="N", y="parameters", color="build", markers=True, line_dash="build")
        figure.update_layout(height=320, margin=dict(t=20, b=10))
        last = series[-1]
        chart(
            figure,
            f"At N = {last.inputs}: "
            + ", ".join(f"{label} {last.of(build):,}" for build, label in builds)
            + ". The two right builds lie on one line (the dashed one on top of the other): equal counts for "
            "every N.",
            key="ws.multi_input",
            table=long,
        )
    right, wrapped, wrong = st.tabs(
        ["Right: layers once", "Right: one keras.Model", "Mistaken: builder per input"]
    )
    right.code(MULTI_INPUT_CODE[Build.REUSED].replace("range(N)", f"range({n})"), language="python")
    wrapped.code(MULTI_INPUT_CODE[Build.WRAPPED].replace("range(N)", f"range({n})"), language="python")
    wrong.code(MULTI_INPUT_CODE[Build.REBUILT].replace("range(N)", f"range({n})"), language="python")


st.title("Weight-sharing lab")
st.markdown(
    "A Siamese network's two branches are **one model called twice**: the same weights embed "
    "both inputs. Build it with two independent branches instead and you pay for a second "
    "copy of the feature extractor, and the two inputs no longer live in the same space."
)
config = choice_ui()
with st.spinner("Building the Keras model…"):
    numbers, other = lab_numbers(config), lab_numbers(config.replace(shared=not config.shared))
parameter_figures(numbers, other, config.shared)
breakdown_and_graph(numbers)
sharing_proof(numbers)
st.subheader("The Keras code for this choice")
st.code(numbers.code, language="python")
st.divider()
race_ui(config)
st.divider()
multi_input_pitfall()
