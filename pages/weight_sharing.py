"""Weight-sharing lab: one branch called twice vs two branches, and the pitfall of a
layer-building function called once per input."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from siamese_core.config import BRANCHES, HEADS, SiameseConfig
from siamese_core.i18n import N_, _, shown_as
from siamese_core.lessons.n_inputs import LARGEST_N, MULTI_INPUT_CODE, Build
from siamese_core.lessons.n_inputs import counts as n_input_counts
from siamese_core.network.inspect import graph_dot, graph_in_words
from siamese_core.results import Component, LabNumbers
from siamese_ui.charts import chart
from siamese_ui.formatting import column_config, listed
from siamese_ui.navigation import BY_KEY, resend_to_address
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.race_view import race_ui
from siamese_ui.shared import DEFAULT_LAB, lab_graph, lab_numbers

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
# The three builds of the N-input network, as the chart's legend names them (shown through _()).
BUILD_NAMES = {
    Build.REUSED: N_("layers instantiated once"),
    Build.WRAPPED: N_("builder wrapped in one keras.Model"),
    Build.REBUILT: N_("builder called per input"),
}


def _reset_dim() -> None:
    st.session_state[DIM] = DEFAULT_DIM[st.session_state[BRANCH]]


def choice_ui() -> SiameseConfig:
    """Sharing, branch, head and embedding size, bound to the link."""
    c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
    resend_to_address(SHARED, BRANCH, HEAD, DIM)
    shared = c1.toggle(_("Share weights between the branches"), value=True, key=SHARED, bind="query-params")
    branch = c2.selectbox(
        _("Branch (feature extractor)"), BRANCHES, key=BRANCH, bind="query-params", on_change=_reset_dim
    )
    head = c3.selectbox(
        _("Head"),
        HEADS,
        format_func=shown_as(),  # "distance" in the reader's words, as on Train; "matchnet" is a name
        key=HEAD,
        bind="query-params",
        help=_(
            "distance: Euclidean distance + contrastive loss (the Keras example). "
            "matchnet: concatenate + 3 dense layers + softmax (MatchNet)."
        ),
    )
    dim = c4.select_slider(_("Embedding size"), DIMS, value=DEFAULT_DIM[branch], key=DIM, bind="query-params")
    return SiameseConfig(branch=branch, head=head, shared=shared, embedding_dim=dim)


def parameter_figures(numbers: LabNumbers, other: LabNumbers, shared: bool) -> None:
    now, alt = numbers.breakdown, other.breakdown
    m1, m2, m3, m4 = st.columns(4)
    difference = now.total - alt.total
    m1.metric(
        _("Total parameters"),
        f"{now.total:,}",
        # the number first: Streamlit reads the delta's direction from its leading sign
        delta=(_("{difference:+,} vs unshared") if shared else _("{difference:+,} vs shared")).format(
            difference=difference
        ),
        delta_color="inverse",
        delta_arrow="off",  # the sign says it: "↓ -133,504" said it twice
    )
    m2.metric(_("Trainable"), f"{now.trainable:,}")
    m3.metric(_("Non-trainable"), f"{now.non_trainable:,}")
    m4.metric(_("One feature branch"), f"{now.branch:,}")
    unshared_total, shared_total = (alt.total, now.total) if shared else (now.total, alt.total)
    extra = unshared_total - shared_total
    st.markdown(
        _(
            "**Shared.** One branch object serves both inputs, so its {branch:,} parameters are stored once. "
            "Unsharing would add a second copy: **+{extra:,} parameters**."
        ).format(branch=now.branch, extra=extra)
        if shared
        else _(
            "**Unshared.** The unshared model carries a second copy of the feature extractor: "
            "**+{extra:,} parameters** ({unshared:,} instead of {shared:,})."
        ).format(extra=extra, unshared=unshared_total, shared=shared_total)
    )
    st.caption(
        _("Keras's own `model.count_params()` for this model: {count:,}.").format(count=numbers.count_params)
    )


# The branches' Keras names (models.build_siamese), in the reader's words: the Chinese page read
# "branch 133,504" beside "输出头 0" (an exploratory session).
BRANCH_NAMES = {"branch": N_("branch"), "branch_a": N_("branch_a"), "branch_b": N_("branch_b")}


def component_name(c: Component) -> str:
    """A component as the lab names it: a branch by its Keras name, everything else as the head."""
    if c.role == "head":
        return _("head")
    return _(BRANCH_NAMES[c.name]) if c.name in BRANCH_NAMES else c.name


def breakdown_and_graph(numbers: LabNumbers, config: SiameseConfig) -> None:
    left, right = st.columns([1, 1])
    components = numbers.breakdown.components
    with left:
        st.subheader(_("Where the parameters live"))
        component, parameters, used_by = _("component"), _("parameters"), _("used by")
        frame = pd.DataFrame(
            [
                {
                    component: component_name(c),
                    parameters: c.total,
                    used_by: ", ".join(c.used_by) or _("both embeddings"),
                }
                for c in components
            ]
        )
        figure = px.bar(
            frame,
            x=component,
            y=parameters,
            color=component,
            text=parameters,
            hover_data=[used_by],
            color_discrete_sequence=px.colors.qualitative.Set2,
        )
        figure.update_traces(texttemplate="%{text:,}", textposition="outside")
        figure.update_layout(showlegend=False, height=330, margin=dict(t=20, b=10), yaxis_title=parameters)
        chart(
            figure,
            _("Parameters per component: {components}; {total:,} in all.").format(
                components=listed(f"{component_name(c)} {c.total:,}" for c in components),
                total=sum(c.total for c in components),
            ),
            key="ws.chart",
            table_on_page=True,  # the components table beside it
        )
        table = pd.DataFrame(
            [
                {
                    component: component_name(c),
                    _("total"): c.total,
                    _("trainable"): c.trainable,
                    _("non-trainable"): c.non_trainable,
                    used_by: ", ".join(c.used_by) or "—",
                }
                for c in components
            ]
        )
        st.dataframe(table, hide_index=True, width="stretch", column_config=column_config(table))
    with right:
        st.subheader(_("Architecture"))
        graph = lab_graph(config)  # the words in the reader's language, written here (not cached)
        st.graphviz_chart(graph_dot(graph), width="stretch")
        with st.expander(_("The graph in words")):
            st.markdown(graph_in_words(graph))


def sharing_proof(numbers: LabNumbers) -> None:
    st.subheader(_("Proof that sharing is real"))
    st.markdown(_("The same test digit goes through the branch of input A and the branch of input B:"))
    picture, table = st.columns([1, 4])
    picture.image(
        digit_image(numbers.digit),
        caption=_("the digit"),
        width=112,
        alt=_("Digit {digit} from the embedded 5,000 digits, the one sent through both branches.").format(
            digit=numbers.digit_label
        ),
    )
    emb_a, emb_b = numbers.emb_a, numbers.emb_b
    largest_difference = float(np.max(np.abs(emb_a - emb_b)))
    # the 8 dimensions where the two embeddings are largest (a ReLU embedding has many zeros)
    dims = np.sort(np.argsort(-(np.abs(emb_a) + np.abs(emb_b)))[:8])
    table.dataframe(
        pd.DataFrame(
            {
                _("dimension"): dims,
                _("via branch of input A"): emb_a[dims],
                _("via branch of input B"): emb_b[dims],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if largest_difference == 0.0:
        table.success(
            _(
                "Identical embeddings (largest difference {difference:.1e}): both inputs use one set of weights."
            ).format(difference=largest_difference)
        )
    else:
        table.warning(
            _(
                "Different embeddings (largest difference {difference:.3f}): two independently initialised "
                "branches."
            ).format(difference=largest_difference)
        )


def multi_input_pitfall() -> None:
    st.subheader(_("The pitfall: a layer-building function called once per input"))
    st.markdown(
        _(
            "A CNN + LSTM over **N images**. Calling a function that *creates* layers once per input gives "
            "every input its own copy of the whole stack. Two fixes share it: instantiate the layers once and "
            "call them on each input, or call the building function **once**, inside one `keras.Model`, and "
            "call that model on each input. The model runs either way: only the parameter count tells."
        )
    )
    resend_to_address(N_INPUTS)
    n = st.slider(_("Number of inputs N"), 2, LARGEST_N, DEFAULT_N_INPUTS, key=N_INPUTS, bind="query-params")
    counts = n_input_counts(n)  # measured on the built networks (siamese_core/lessons/n_inputs.py)
    # Two by two: the labels are long (Chinese as much as English) and Streamlit cuts a metric's
    # label to one line; four across cut two of them at 1400 px (tests/e2e/test_layout.py).
    q1, q2 = st.columns(2)
    q3, q4 = st.columns(2)
    q1.metric(_("Layers instantiated once (right)"), f"{counts.reused:,}")
    q2.metric(_("Builder wrapped in one keras.Model (right)"), f"{counts.wrapped:,}")
    q3.metric(
        _("Builder called per input (mistaken)"),
        f"{counts.rebuilt:,}",
        delta=f"+{counts.extra:,}",
        delta_color="inverse",
        delta_arrow="off",
    )
    q4.metric(_("Ratio"), f"{counts.rebuilt / counts.reused:.2f}×")  # the digits of the sentence below
    fields = dict(
        reused=counts.reused,
        wrapped=counts.wrapped,
        stack=counts.stack,
        head=counts.head,
        n=n,
        ratio=(n * counts.stack + counts.head) / (counts.stack + counts.head),
    )
    if counts.wrapped == counts.reused:
        why = _(
            "The two fixes build **the same number of parameters** ({reused:,} and {wrapped:,}): one CNN stack "
            "of **{stack:,}**, plus the LSTM and output layer, **{head:,}**. **Why the ratio stays below N:** "
            "the mistake copies the stack, never the head, so rebuilt / right = (N · stack + head) / "
            "(stack + head) = ({n} · {stack:,} + {head:,}) / ({stack:,} + {head:,}) = **{ratio:.2f}**, "
            "not {n}: the head is paid once in both."
        )
    else:
        why = _(
            "The two fixes build **different numbers of parameters** ({reused:,} and {wrapped:,}): one CNN "
            "stack of **{stack:,}**, plus the LSTM and output layer, **{head:,}**. **Why the ratio stays below "
            "N:** the mistake copies the stack, never the head, so rebuilt / right = (N · stack + head) / "
            "(stack + head) = ({n} · {stack:,} + {head:,}) / ({stack:,} + {head:,}) = **{ratio:.2f}**, "
            "not {n}: the head is paid once in both."
        )
    st.markdown(why.format(**fields))
    with st.expander(_("Parameters against N, all three builds"), expanded=True):
        series = [n_input_counts(k) for k in range(2, n + 1)]
        build, parameters = _("build"), _("parameters")
        long = pd.DataFrame(
            [
                {"N": c.inputs, build: _(label), parameters: c.of(kind)}
                for kind, label in BUILD_NAMES.items()
                for c in series
            ]
        )
        figure = px.line(long, x="N", y=parameters, color=build, markers=True, line_dash=build)
        figure.update_layout(height=320, margin=dict(t=20, b=10))
        last = series[-1]
        chart(
            figure,
            _(
                "At N = {n}: {counts}. The two right builds lie on one line (the dashed one on top of the "
                "other): equal counts for every N."
            ).format(
                n=last.inputs,
                counts=listed(f"{_(label)} {last.of(kind):,}" for kind, label in BUILD_NAMES.items()),
            ),
            key="ws.multi_input",
            table=long,
        )
    right, wrapped, wrong = st.tabs(
        [_("Right: layers once"), _("Right: one keras.Model"), _("Mistaken: builder per input")]
    )
    # The code stays as a student would type it (English, like Keras).
    right.code(MULTI_INPUT_CODE[Build.REUSED].replace("range(N)", f"range({n})"), language="python")
    wrapped.code(MULTI_INPUT_CODE[Build.WRAPPED].replace("range(N)", f"range({n})"), language="python")
    wrong.code(MULTI_INPUT_CODE[Build.REBUILT].replace("range(N)", f"range({n})"), language="python")


st.title(BY_KEY["weight_sharing"].name)
st.markdown(
    _(
        "A Siamese network's two branches are **one model called twice**: the same weights embed "
        "both inputs. Build it with two independent branches instead and you pay for a second "
        "copy of the feature extractor, and the two inputs no longer live in the same space."
    )
)
config = choice_ui()
with st.spinner(_("Building the Keras model…")):
    numbers, other = lab_numbers(config), lab_numbers(config.replace(shared=not config.shared))
parameter_figures(numbers, other, config.shared)
breakdown_and_graph(numbers, config)
sharing_proof(numbers)
st.subheader(_("The Keras code for this choice"))
st.code(numbers.code, language="python")
st.divider()
race_ui(config)
st.divider()
multi_input_pitfall()
