"""Embeddings: where the digits land, a point's neighbours, and how the space formed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import streamlit as st

from siamese_core.i18n import N_, _, ngettext, shown_as
from siamese_core.network.data import display_sample
from siamese_core.tasks import ModelCall
from siamese_ui.charts import chart, clusters_in_words
from siamese_ui.formatting import UNDEFINED, alike, sentences
from siamese_ui.navigation import BY_KEY
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import ascii_digits, digit_image
from siamese_ui.scatter import ring_chosen_point, scatter_figure, seen_in_training
from siamese_ui.service import ask
from siamese_ui.session import active_model, model_banner, model_cache, model_dataset

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

POINTS, METHOD, PICK, SCATTER, EPOCH = "emb.n", "emb.method", "emb.pick", "emb.scatter", "emb.epoch"
RAW = N_("raw 2-D coordinates")  # an option's value, in English; shown through the session's language
# The distance each model compares embeddings with (models.embedding_metric), as the page names it.
DISTANCE_NAMES = {"cosine": N_("cosine distance"), "euclidean": N_("euclidean distance")}
NEIGHBOURS = 7


@st.cache_data(show_spinner=False, max_entries=32)
def project(embeddings: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """2-D coordinates of the embeddings (a 2-D embedding is shown as it is)."""
    if method == RAW:
        return embeddings[:, :2]
    if not has_spread(embeddings):  # a collapsed model: one spot, which PCA and t-SNE cannot fit
        return np.zeros((len(embeddings), 2), dtype=embeddings.dtype)
    if method == "PCA":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=seed).fit_transform(embeddings)
    if method == "t-SNE":
        from sklearn.manifold import TSNE

        return TSNE(2, init="pca", perplexity=30, random_state=seed).fit_transform(embeddings)
    import umap

    return umap.UMAP(random_state=seed).fit_transform(embeddings)


def has_spread(embeddings: np.ndarray) -> bool:
    """Whether the embeddings differ at all (a collapsed model gives every digit the same one: PCA's
    variance ratios are then 0/0 and t-SNE has no neighbours to tell apart)."""
    return bool(len(embeddings)) and bool(np.ptp(embeddings, axis=0).max() > 0)


def projection_methods(dimensions: int) -> list[str]:
    if dimensions == 2:  # nothing to project: PCA or t-SNE would only rotate or distort it
        return [RAW]
    return ["PCA", "t-SNE"] + (["UMAP"] if importlib.util.find_spec("umap") is not None else [])


def _pick_clicked_point() -> None:
    """A click on the scatter sets the point number: one control for the chosen point."""
    points = st.session_state[SCATTER].get("selection", {}).get("points", [])
    if points:
        st.session_state[PICK] = int(points[0]["customdata"][2])


def test_digit_map(active, data) -> tuple[np.ndarray, np.ndarray]:
    """The scatter of test digits; returns (chosen test indices, their embeddings)."""
    cache = model_cache(active)
    held = set(data.held_out_classes)
    c1, c2, c3 = st.columns([1, 1, 2])
    n_points = c1.slider(
        _("Points"),
        200,
        min(3000, len(data.test.y)),
        min(1000, len(data.test.y)),
        step=100,
        key=POINTS,
        help=_("More points look more like a cloud; fewer stay interactive."),
    )
    chosen = display_sample(len(data.test.y), n_points)
    with st.spinner(_("Embedding test digits…")):
        embeddings = cache.get_or_compute(
            ("emb", n_points), lambda: ask(ModelCall.EMBED, model=active.model, x=data.test.x[chosen])
        )
    methods = projection_methods(embeddings.shape[1])
    method = c2.selectbox(
        _("Projection"),
        methods,
        key=METHOD,
        # the session's language bound now: AppTest calls format_func outside the script run
        format_func=shown_as(),
        help=_("The embedding is 2-D: it is drawn as it is, no projection needed.")
        if methods == [RAW]
        else _("How the embedding is flattened to 2-D for the screen."),
    )
    with st.spinner(_("Projecting with {method}…").format(method=_(method))):
        xy = project(embeddings, method)
    labels = data.test.y[chosen]
    seen, not_seen = seen_in_training(False), seen_in_training(True)  # two look-ups, not one a point
    frame = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "digit": [data.class_names[k] for k in labels],
            "seen in training": [not_seen if k in held else seen for k in labels],
            "picture": ascii_digits(data.test.x[chosen]),
            "position": np.arange(n_points),
        }
    )
    c3.caption(
        sentences(
            _(
                "Hover a point to see its digit; click one (or type its number below) for its nearest neighbours."
            ),
            _("Held-out digits {digits} are drawn as ✕: the network never saw them.").format(
                digits=sorted(held)
            )
            if held
            else "",
        )
    )
    figure = scatter_figure(frame, data.class_names, bool(held))
    ring_chosen_point(figure, frame, chosen_position(n_points))
    table, sentence = clusters_in_words(frame)
    chart(
        figure,
        sentence,
        key=SCATTER,
        table=table,
        on_select=_pick_clicked_point,
        selection_mode="points",
    )
    return chosen, embeddings


def chosen_position(n_points: int) -> int:
    """The chosen point's number, within the points drawn (fewer points: back to point 0)."""
    if st.session_state.get(PICK, 0) >= n_points:
        st.session_state[PICK] = 0
    return st.session_state.get(PICK, 0)


def neighbours_ui(active, data, chosen: np.ndarray, embeddings: np.ndarray) -> None:
    from siamese_core.network.compare import nearest

    chosen_position(len(chosen))
    position = st.number_input(
        _("Point number"),
        0,
        len(chosen) - 1,
        key=PICK,
        help=_("Click a point on the map, or type its number."),
    )
    metric = active.model.facts.metric
    idx, dist = nearest(embeddings, embeddings[position], k=NEIGHBOURS, metric=metric)
    names, labels = data.class_names, data.test.y[chosen]
    st.markdown(
        _(
            "**Nearest neighbours of point {point}** (test digit #{index}, a *{digit}*), by the model's own "
            "{distance}:"
        ).format(
            point=position,
            index=chosen[position],
            digit=names[labels[position]],
            distance=_(DISTANCE_NAMES[metric]),
        )
    )
    for column, i, d in zip(st.columns(NEIGHBOURS), idx, dist, strict=True):
        column.image(
            digit_image(data.test.x[chosen[i]], 3),
            caption=f"{names[labels[i]]} · d={d:.3f}" if i != position else _("the point itself"),
            alt=(
                _("Test digit #{index}, a {digit}, at distance {distance:.3f} from point {point}.").format(
                    index=chosen[i], digit=names[labels[i]], distance=d, point=position
                )
                if i != position
                else _("Point {point} itself: test digit #{index}, a {digit}.").format(
                    point=position, index=chosen[i], digit=names[labels[i]]
                )
            ),
        )


def epoch_replay(active, data) -> None:
    """One slider replays the fixed probe digits' embedding epoch by epoch."""
    from siamese_core.network.evaluation import comparable, retrieval_metrics

    st.subheader(_("How the space formed, epoch by epoch"))
    job = active.job
    if job is None or len(job.probe_snapshots) < 2:
        st.info(
            _(
                "Train a model on the Train page: every epoch, a fixed set of test digits is embedded, "
                "and this section replays how the clusters formed."
            )
        )
        return
    snapshots, names = job.probe_snapshots, data.class_names
    last = snapshots[-1]
    if last.shape[1] == 2:
        projection, how = (lambda a: a[:, :2]), _("the raw 2-D embedding")
    elif not has_spread(last):  # collapsed: nothing for PCA to fit on the last epoch
        projection, how = (
            (lambda a: a[:, :2]),
            _("its first two coordinates (the last epoch has no spread to fit)"),
        )
    else:  # one projection for every frame, fitted on the last epoch, so frames are comparable
        from sklearn.decomposition import PCA

        projection, how = PCA(2, random_state=0).fit(last).transform, _("PCA fitted on the last epoch")
    frames = [projection(s) for s in snapshots]
    epoch = st.slider(
        _("Epoch"),
        0,
        len(snapshots) - 1,
        len(snapshots) - 1,
        key=EPOCH,
        help=_("0 is the untrained network."),
    )
    xy = frames[epoch]
    # each epoch on its own scale: the untrained branch's points can lie within a hundredth of the
    # trained spread, one dot on the last epoch's axes, and the lesson asks what they already group
    low, high = xy.min(axis=0), xy.max(axis=0)
    span, last_span = high - low, np.ptp(frames[-1], axis=0)
    pad = np.where(span > 0, 0.05 * span, 0.5)
    frame = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "digit": [names[k] for k in job.probe_labels],
            "seen in training": seen_in_training(False),
            "picture": ascii_digits(job.probe_images),
            "position": np.arange(len(xy)),
        }
    )
    figure = scatter_figure(frame, names, False, height=480)
    (width, height), (last_width, last_height) = alike(*span), alike(*last_span)
    figure.update_layout(
        xaxis_range=[low[0] - pad[0], high[0] + pad[0]],
        yaxis_range=[low[1] - pad[1], high[1] + pad[1]],
        title=dict(
            text=_("Epoch {epoch}: axes fitted to this epoch's points ({width} × {height})").format(
                epoch=epoch, width=width, height=height
            ),
            font=dict(size=14),
        ),
        margin=dict(t=40),
    )
    table, sentence = clusters_in_words(frame)
    chart(figure, sentence, key="emb.replay", table=table)
    scores = retrieval_metrics(comparable(active.model.facts.metric, snapshots[epoch]), job.probe_labels)
    map_at_r = _(UNDEFINED) if scores.map_at_r is None else f"{scores.map_at_r:.3f}"
    probes = len(job.probe_labels)
    st.caption(
        ngettext(
            "{epoch}: {probes} fixed test digit, drawn with {how}. Each epoch's axes fit its own points: at "
            "this epoch they span {width} × {height}, at the last epoch (epoch {last}) {last_width} "
            "× {last_height}, so compare how the digits group, not how large the cloud is. precision@1 "
            "{precision:.3f}, MAP@R {map_at_r}.",
            "{epoch}: {probes} fixed test digits, drawn with {how}. Each epoch's axes fit its own points: at "
            "this epoch they span {width} × {height}, at the last epoch (epoch {last}) {last_width} "
            "× {last_height}, so compare how the digits group, not how large the cloud is. precision@1 "
            "{precision:.3f}, MAP@R {map_at_r}.",
            probes,
        ).format(
            epoch=(_("Epoch {epoch} (the untrained network)") if epoch == 0 else _("Epoch {epoch}")).format(
                epoch=epoch
            ),
            probes=probes,
            how=how,
            width=width,
            height=height,
            last=len(frames) - 1,
            last_width=last_width,
            last_height=last_height,
            precision=scores.precision_at_1,
            map_at_r=map_at_r,
        )
    )


st.title(BY_KEY["embeddings"].name)
st.markdown(
    _(
        "Each point is a **test digit**, placed by the feature branch's embedding and projected to 2-D. "
        "A good Siamese network puts the same digit close together and different digits apart, "
        "without ever being told the digit's name: only *same* or *different*."
    )
)
model = active_model()
model_banner(model)
digits = model_dataset(model)
chosen_points, point_embeddings = test_digit_map(model, digits)
neighbours_ui(model, digits, chosen_points, point_embeddings)
st.divider()
epoch_replay(model, digits)
