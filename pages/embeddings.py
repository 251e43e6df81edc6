"""Embeddings: where the digits land, how the space formed, and a point's neighbours."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from pages._common import active_model, ascii_digit, digit_image, model_banner, model_cache, model_dataset

st.title("Embeddings")
st.markdown(
    "Each point is a **test digit**, placed by the feature branch's embedding and projected to 2-D. "
    "A good Siamese network puts the same digit close together and different digits apart, "
    "without ever being told the digit's name: only *same* or *different*."
)
m = active_model()
model_banner(m)
ds = model_dataset(m)
held = set(ds.held_out_classes)

methods = ["PCA", "t-SNE"]
if importlib.util.find_spec("umap") is not None:
    methods.append("UMAP")
cache = model_cache(m)

c1, c2, c3 = st.columns([1, 1, 2])
n_points = c1.slider("Points", 200, min(3000, len(ds.test.y)), min(1000, len(ds.test.y)), step=100,
                     key="emb.n", help="More points look more like a cloud; fewer stay interactive.")


@st.cache_data(show_spinner=False, max_entries=32)
def project(emb: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    from sklearn.decomposition import PCA

    if emb.shape[1] == 2 or method == "raw":
        return emb[:, :2]
    if method == "PCA":
        return PCA(2, random_state=seed).fit_transform(emb)
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        return TSNE(2, init="pca", perplexity=30, random_state=seed).fit_transform(emb)
    import umap

    return umap.UMAP(random_state=seed).fit_transform(emb)


sel = np.random.default_rng(0).permutation(len(ds.test.y))[:n_points]
key = ("emb", n_points)
if key not in cache:
    from siamese_core.evaluation import embed

    with st.spinner("Embedding test digits…"):
        cache[key] = embed(m.model, ds.test.x[sel])
emb = cache[key]
if emb.shape[1] == 2:
    methods = ["raw 2-D coordinates", *methods]
method = c2.selectbox("Projection", methods, key="emb.method")
with st.spinner(f"Projecting with {method}…"):
    xy = project(emb, "raw" if method.startswith("raw") else method)

labels = ds.test.y[sel]
names = ds.class_names
df = pd.DataFrame({
    "x": xy[:, 0], "y": xy[:, 1], "digit": [names[k] for k in labels],
    "seen in training": ["no (held out)" if k in held else "yes" for k in labels],
    "picture": [ascii_digit(ds.test.x[i]) for i in sel], "test index": sel,
})
fig = px.scatter(
    df, x="x", y="y", color="digit", symbol="seen in training" if held else None,
    symbol_map={"yes": "circle", "no (held out)": "x"},
    category_orders={"digit": list(names)}, custom_data=["picture", "digit", "test index"],
    color_discrete_sequence=px.colors.qualitative.T10, opacity=0.8,
)
fig.update_traces(
    hovertemplate="<b>%{customdata[1]}</b> (test #%{customdata[2]})<br><span style='font-family:monospace'>%{customdata[0]}</span><extra></extra>",
    marker=dict(size=7),
)
fig.update_layout(height=560, margin=dict(t=10), hoverlabel=dict(font=dict(family="DejaVu Sans Mono, monospace", size=9)),
                  legend_title_text="digit, seen in training" if held else "digit")
c3.caption("Hover a point to see its digit; click one (or pick below) for its nearest neighbours."
           + (f" Held-out digits {sorted(held)} are drawn as ✕: the network never saw them." if held else ""))
event = st.plotly_chart(fig, use_container_width=True, key="emb.scatter", on_select="rerun", selection_mode="points")

picked = None
points = (event or {}).get("selection", {}).get("points", [])
if points:
    picked = int(points[0]["customdata"][2])
pick_pos = st.number_input("…or pick point number", 0, n_points - 1, 0, key="emb.pick")
if picked is None:
    picked = int(sel[pick_pos])
pos = int(np.flatnonzero(sel == picked)[0])
from siamese_core.compare import nearest  # noqa: E402

idx, dist = nearest(emb, emb[pos], k=7)
st.markdown(f"**Nearest neighbours of test digit #{picked}** (a *{names[labels[pos]]}*) in embedding space:")
cols = st.columns(7)
for col, i, d in zip(cols, idx, dist, strict=True):
    col.image(digit_image(ds.test.x[sel[i]], 3), caption=f"{names[labels[i]]} · d={d:.3f}" if i != pos else "the point itself")

st.divider()
st.subheader("How the space formed, epoch by epoch")
job = m.job
if job is None or len(job.probe_snapshots) < 2:
    st.info("Train a model on the Train page: every epoch, a fixed set of test digits is embedded, "
            "and this section replays how the clusters formed.")
else:
    from sklearn.decomposition import PCA

    snaps = job.probe_snapshots
    last = snaps[-1]
    # One projection for every frame, fitted on the last epoch, so frames are comparable.
    proj = (lambda a: a[:, :2]) if last.shape[1] == 2 else PCA(2, random_state=0).fit(last).transform
    frames = []
    for e, s in enumerate(snaps):
        p = proj(s)
        frames.append(pd.DataFrame({"x": p[:, 0], "y": p[:, 1], "epoch": e,
                                    "digit": [names[k] for k in job.probe_labels]}))
    anim = pd.concat(frames)
    lo, hi = anim[["x", "y"]].min(), anim[["x", "y"]].max()
    pad = 0.05 * (hi - lo)
    fig2 = px.scatter(anim, x="x", y="y", color="digit", animation_frame="epoch", category_orders={"digit": list(names)},
                      color_discrete_sequence=px.colors.qualitative.T10,
                      range_x=[lo["x"] - pad["x"], hi["x"] + pad["x"]], range_y=[lo["y"] - pad["y"], hi["y"] + pad["y"]])
    fig2.update_layout(height=520, margin=dict(t=10))
    st.caption(f"{len(job.probe_labels)} fixed test digits; epoch 0 is the untrained network. Press ▶ or drag the slider.")
    st.plotly_chart(fig2, use_container_width=True, key="emb.replay")
    epoch = st.slider("Epoch", 0, len(snaps) - 1, len(snaps) - 1, key="emb.epoch")
    p = proj(snaps[epoch])
    from siamese_core.evaluation import retrieval_metrics  # noqa: E402

    r = retrieval_metrics(snaps[epoch], job.probe_labels)
    st.caption(f"Epoch {epoch}: precision@1 of the probe digits {r['precision_at_1']:.3f}, MAP@R {r['map_at_r']:.3f}.")
