"""Weight-sharing lab: one branch called twice vs two branches, and seed 004's pitfall."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from pages._common import dataset, digit_image
from siamese_core.config import BRANCHES, HEADS, SiameseConfig

st.title("Weight-sharing lab")
st.markdown(
    "A Siamese network's two branches are **one model called twice**: the same weights embed "
    "both inputs. Build it with two independent branches instead and you pay for a second "
    "copy of the feature extractor, and the two inputs no longer live in the same space."
)


@st.cache_data(show_spinner="Building the Keras model…", max_entries=64)
def lab_numbers(config: SiameseConfig) -> dict:
    """Everything this page shows about one configuration, read off the built Keras model."""
    from siamese_core.inspect import branch_embeddings, generated_code, param_breakdown, to_dot
    from siamese_core.models import build_siamese

    model = build_siamese(config)
    digit = dataset("mnist-5k").test.x[0]
    emb_a, emb_b = branch_embeddings(model, digit)
    return {
        "breakdown": param_breakdown(model).as_dict(),
        "count_params": model.count_params(),
        "dot": to_dot(model),
        "code": generated_code(config),
        "emb_a": emb_a,
        "emb_b": emb_b,
        "digit": digit,
    }


@st.cache_data(show_spinner="Building seed 004's networks (up to 57 million parameters)…", max_entries=16)
def seed_004_counts(n: int) -> dict:
    from siamese_core.inspect import multi_input_counts

    return multi_input_counts(n)


c1, c2, c3, c4 = st.columns([1.2, 1, 1, 1])
shared = c1.toggle("Share weights between the branches", value=True, key="ws.shared")
branch = c2.selectbox("Branch (feature extractor)", BRANCHES, key="ws.branch")
head = c3.selectbox("Head", HEADS, key="ws.head",
                    help="distance: Euclidean distance + contrastive loss (seed 003). "
                         "matchnet: concatenate + 3 dense layers + softmax (seed 000).")
dim_default = {"mlp": 128, "cnn": 64, "matchnet": 512}[branch]
dim = c4.select_slider("Embedding size", [2, 8, 16, 32, 64, 128, 256, 512], value=dim_default, key=f"ws.dim.{branch}")

config = SiameseConfig(branch=branch, head=head, shared=shared, embedding_dim=dim)
other = config.replace(shared=not shared)
now, alt = lab_numbers(config), lab_numbers(other)
b, b_alt = now["breakdown"], alt["breakdown"]

m1, m2, m3, m4 = st.columns(4)
m1.metric("Total parameters", f"{b['total']:,}", delta=f"{b['total'] - b_alt['total']:+,} vs {'unshared' if shared else 'shared'}",
          delta_color="inverse")
m2.metric("Trainable", f"{b['trainable']:,}")
m3.metric("Non-trainable", f"{b['non_trainable']:,}")
m4.metric("One feature branch", f"{b['branch']:,}")
unshared_total = b["total"] if not shared else b_alt["total"]
shared_total = b_alt["total"] if not shared else b["total"]
st.markdown(
    f"**{'Shared' if shared else 'Unshared'}.** "
    + (
        f"One branch object serves both inputs, so its {b['branch']:,} parameters are stored once. "
        f"Unsharing would add a second copy: **+{unshared_total - shared_total:,} parameters**."
        if shared
        else f"The unshared model carries a second copy of the feature extractor: "
        f"**+{unshared_total - shared_total:,} parameters** ({unshared_total:,} instead of {shared_total:,})."
    )
)
st.caption(f"Keras's own `model.count_params()` for this model: {now['count_params']:,}.")

left, right = st.columns([1, 1])
with left:
    st.subheader("Where the parameters live")
    rows = [
        {"component": c["name"], "parameters": c["total"], "kind": "trainable" if c["trainable"] else "non-trainable",
         "used by": ", ".join(c["used_by"]) or "both embeddings"}
        for c in b["components"]
    ]
    df = pd.DataFrame(rows)
    fig = px.bar(df, x="component", y="parameters", color="component", text="parameters",
                 hover_data=["used by"], color_discrete_sequence=px.colors.qualitative.Set2)
    fig.update_traces(texttemplate="%{text:,}", textposition="outside")
    fig.update_layout(showlegend=False, height=330, margin=dict(t=20, b=10), yaxis_title="parameters")
    st.plotly_chart(fig, use_container_width=True, key="ws.chart")
    st.dataframe(
        pd.DataFrame([{"component": c["name"], "total": c["total"], "trainable": c["trainable"],
                       "non-trainable": c["non_trainable"], "used by": ", ".join(c["used_by"]) or "—"}
                      for c in b["components"]]),
        hide_index=True, use_container_width=True,
    )
with right:
    st.subheader("Architecture")
    st.graphviz_chart(now["dot"], use_container_width=True)

st.subheader("Proof that sharing is real")
st.markdown("The same test digit goes through the branch of input A and the branch of input B:")
pc1, pc2 = st.columns([1, 4])
pc1.image(digit_image(now["digit"]), caption="the digit", width=112)
diff = float(np.max(np.abs(now["emb_a"] - now["emb_b"])))
# the 8 dimensions where the two embeddings are largest (a ReLU embedding has many zeros)
dims = np.sort(np.argsort(-(np.abs(now["emb_a"]) + np.abs(now["emb_b"])))[:8])
proof = pd.DataFrame({"dimension": dims, "via branch of input A": now["emb_a"][dims],
                      "via branch of input B": now["emb_b"][dims]})
pc2.dataframe(proof, hide_index=True, use_container_width=True)
if diff == 0.0:
    pc2.success(f"Identical embeddings (largest difference {diff:.1e}): both inputs use one set of weights.")
else:
    pc2.warning(f"Different embeddings (largest difference {diff:.3f}): two independently initialised branches.")

st.subheader("The Keras code for this choice")
st.code(now["code"], language="python")

st.divider()
st.subheader("Seed 004's pitfall: a builder called once per input")
st.markdown(
    "A CNN + LSTM over **N images**. Calling a function that *creates* layers once per input gives "
    "every input its own copy of the whole stack; instantiating the layers once and calling them "
    "on each input shares them. The model still runs either way: only the parameter count tells."
)
n = st.slider("Number of inputs N", 2, 8, 6, key="ws.n_inputs")
counts = seed_004_counts(n)
q1, q2, q3 = st.columns(3)
q1.metric("Layers instantiated once (right)", f"{counts['reused']:,}")
q2.metric("Builder called per input (mistaken)", f"{counts['rebuilt']:,}", delta=f"+{counts['extra']:,}", delta_color="inverse")
q3.metric("Ratio", f"{counts['rebuilt'] / counts['reused']:.1f}x")
with st.expander("Parameters against N, both builds", expanded=True):
    series = [seed_004_counts(k) for k in range(2, n + 1)]
    long = pd.DataFrame(
        [{"N": s["inputs"], "build": "layers instantiated once", "parameters": s["reused"]} for s in series]
        + [{"N": s["inputs"], "build": "builder called per input", "parameters": s["rebuilt"]} for s in series]
    )
    fig = px.line(long, x="N", y="parameters", color="build", markers=True)
    fig.update_layout(height=320, margin=dict(t=20, b=10))
    st.plotly_chart(fig, use_container_width=True, key="ws.seed004")
from siamese_core.inspect import MULTI_INPUT_CODE  # noqa: E402

k1, k2 = st.columns(2)
k1.markdown("**Right**")
k1.code(MULTI_INPUT_CODE[True].replace("range(N)", f"range({n})"), language="python")
k2.markdown("**Mistaken**")
k2.code(MULTI_INPUT_CODE[False].replace("range(N)", f"range({n})"), language="python")
