"""Evaluate: distances of same and different pairs, the threshold trade-off, ROC, retrieval."""

from __future__ import annotations

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from pages._common import active_model, digit_image, model_banner, model_cache, model_dataset
from siamese_core.evaluation import accuracy_at, best_threshold, confusion, precision_recall, roc_curve

st.title("Evaluate")
st.markdown(
    "A Siamese network outputs a **distance**; a **threshold** turns it into a verdict. Here are the "
    "distances of same-digit and different-digit **test pairs**, what each threshold would give, and how "
    "well the embedding ranks digits of the same class first."
)
m = active_model()
model_banner(m)
ds = model_dataset(m)
names = ds.class_names
cache = model_cache(m)
if "report" not in cache:
    from siamese_core.evaluation import evaluate

    with st.spinner("Evaluating on the test pairs…"):
        cache["report"] = evaluate(m.model, ds, m.threshold)
r = cache["report"]
same = r.same == 1
scores = r.scores
st.caption(f"{len(scores):,} balanced test pairs from the {ds.title} test split"
           + (f"; held-out digits {list(ds.held_out_classes)} included." if ds.held_out_classes else "."))

best_t, best_acc = best_threshold(scores, r.same)
lo, hi = float(scores.min()), float(scores.max())
t = st.slider("Threshold", lo, hi, float(np.clip(m.threshold, lo, hi)), step=(hi - lo) / 500 or 0.001,
              format="%.3f", key="eval.threshold",
              help="Pairs closer than this are called 'same digit'.")
acc = accuracy_at(scores, r.same, t)
prec, rec = precision_recall(scores, r.same, t)
k = st.columns(5)
k[0].metric("Accuracy", f"{100 * acc:.2f}%")
k[1].metric("Precision (same)", f"{100 * prec:.2f}%")
k[2].metric("Recall (same)", f"{100 * rec:.2f}%")
k[3].metric("Model's threshold", f"{m.threshold:.3f}", help="calibrated on validation pairs when the model was trained")
k[4].metric("Best threshold on these test pairs", f"{best_t:.3f}", help=f"{100 * best_acc:.2f}% accuracy: an upper bound, since it peeks at the test set")

left, right = st.columns([3, 2])
with left:
    hist = go.Figure()
    bins = dict(start=lo, end=hi, size=(hi - lo) / 60 or 0.01)
    hist.add_histogram(x=scores[same], name="same digit", xbins=bins, opacity=0.65, marker_color="#2ca02c")
    hist.add_histogram(x=scores[~same], name="different digits", xbins=bins, opacity=0.65, marker_color="#d62728")
    hist.add_vline(x=t, line=dict(color="black", width=3), annotation_text="slider")
    hist.add_vline(x=m.threshold, line=dict(color="#1f77b4", dash="dash"), annotation_text="calibrated",
                   annotation_position="top left")
    hist.update_layout(barmode="overlay", height=360, margin=dict(t=30, b=10), xaxis_title="distance",
                       yaxis_title="pairs", title="distances of test pairs", legend=dict(orientation="h"))
    st.plotly_chart(hist, use_container_width=True, key="eval.hist")
with right:
    cm = confusion(scores, r.same, t)
    fig = px.imshow(cm, text_auto=True, color_continuous_scale="Blues",
                    x=["predicted different", "predicted same"], y=["truly different", "truly same"])
    fig.update_layout(height=360, margin=dict(t=30, b=10), title="confusion matrix at the slider", coloraxis_showscale=False)
    st.plotly_chart(fig, use_container_width=True, key="eval.cm")

left, right = st.columns([3, 2])
with left:
    fpr, tpr, thr, auc = roc_curve(scores, r.same)
    roc = go.Figure()
    roc.add_scatter(x=fpr, y=tpr, mode="lines", name=f"ROC (AUC {auc:.4f})")
    roc.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name="chance")
    cmx = confusion(scores, r.same, t)
    roc.add_scatter(x=[cmx[0, 1] / max(cmx[0].sum(), 1)], y=[cmx[1, 1] / max(cmx[1].sum(), 1)], mode="markers",
                    marker=dict(size=12, color="black"), name="slider threshold")
    roc.update_layout(height=360, margin=dict(t=30, b=10), title=f"ROC curve · AUC {auc:.4f}",
                      xaxis_title="false positive rate", yaxis_title="true positive rate", legend=dict(orientation="h"))
    st.plotly_chart(roc, use_container_width=True, key="eval.roc")
with right:
    st.subheader("Retrieval and one-shot")
    st.metric("precision@1", f"{r.precision_at_1:.3f}", help="how often a test digit's nearest other test digit has its class")
    st.metric("MAP@R", f"{r.map_at_r:.3f}", help="mean average precision over the R nearest, R = the class size")
    if r.one_shot is not None:
        st.metric("5-way one-shot on held-out digits", f"{100 * r.one_shot:.1f}%",
                  help="one example of each of 5 never-seen classes; chance is 20%")
    else:
        st.caption("Train with held-out digits (preset held-out-8-9) to measure one-shot accuracy on classes the network never saw.")

st.subheader("The hardest mistakes at the slider")
fp = np.flatnonzero(~same & (scores < t))
fn = np.flatnonzero(same & (scores >= t))
c1, c2 = st.columns(2)
for col, title, idx, order in ((c1, "Closest different pairs (called 'same')", fp, np.argsort(scores[fp])),
                               (c2, "Farthest same pairs (called 'different')", fn, np.argsort(-scores[fn]))):
    col.markdown(f"**{title}** · {len(idx)} pairs")
    for p in idx[order][:5]:
        a, b = r.i[p], r.j[p]
        row = col.columns([1, 1, 2])
        row[0].image(digit_image(ds.test.x[a], 2))
        row[1].image(digit_image(ds.test.x[b], 2))
        row[2].caption(f"{names[ds.test.y[a]]} vs {names[ds.test.y[b]]} · distance {scores[p]:.3f}")
    if not len(idx):
        col.caption("None at this threshold.")
