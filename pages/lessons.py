"""More lessons from the source posts: composing models, transfer learning, ranking (RankIQA),
exporting and merging weights. Each runs on the session's model; only the open tab runs, and
every training goes through the server's training limit as a background task."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from siamese_core.network.persistence import MAX_MODEL_BYTES
from siamese_core.tasks import Task
from siamese_ui.charts import chart
from siamese_ui.formatting import column_config
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import image_row
from siamese_ui.run_control import task_ui
from siamese_ui.session import (
    MODEL,
    UPLOADED,
    ActiveModel,
    active_model,
    model_banner,
    model_dataset,
    model_dataset_ref,
)

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

KEY = "lessons."  # session and widget keys of this page
TABS = ["Composing models", "Transfer learning", "Learning to rank (RankIQA)", "Export, import, merge"]
SHOWN = 8  # test digits shown as pictures


# ---- composing an encoder and a decoder: C = B(A(x)) ---------------------------------------------
def composing_tab(active: ActiveModel, data) -> None:
    from siamese_core.lessons.compose import (
        build_decoder,
        compose_layerwise,
        compose_nested,
        copy_model,
        shares_variables,
    )
    from siamese_core.network.models import embedding_model

    st.markdown(
        "Take the trained feature branch as an **encoder A**, add a **decoder B** (Dense, then two "
        "Conv2DTranspose up to 28x28) and connect them into **C = B(A(x))**, two ways: by *calling the "
        "models* (nesting) or by *re-applying their layers one by one* (the source post's way). C creates no "
        "new variables: it is A's and B's. Train C **jointly** (A learns too) or **separately** (A frozen)."
    )
    encoder = copy_model(embedding_model(active.model), "encoder_A")
    decoder = build_decoder(int(encoder.output.shape[-1]), "decoder_B")
    nested, layered = compose_nested(encoder, decoder), compose_layerwise(encoder, decoder)
    figures = st.columns(5)
    figures[0].metric("A (encoder)", f"{encoder.count_params():,}")
    figures[1].metric("B (decoder)", f"{decoder.count_params():,}")
    figures[2].metric("C nested", f"{nested.count_params():,}")
    figures[3].metric("C layer by layer", f"{layered.count_params():,}")
    same = shares_variables(nested, encoder, decoder) and shares_variables(layered, encoder, decoder)
    figures[4].metric("C's variables are A's and B's", "yes" if same else "no")
    epochs = st.slider("Epochs", 1, 8, 3, key=KEY + "ae_epochs")
    runs = task_ui(
        "autoencoder",
        "Train C both ways",
        Task.AUTOENCODER,
        dict(model=active.model, images=data.train.x[:3000], tests=data.test.x[:SHOWN], epochs=epochs),
        active.handle,
        help="3,000 training digits, twice",
    )
    if runs:
        st.session_state[KEY + "ae"] = (active.handle, runs)  # the decoder fits this model's encoder
        figure = go.Figure()
        for name, run in runs.ways():
            figure.add_scatter(
                x=list(range(1, len(run.loss) + 1)), y=list(run.loss), mode="lines+markers", name=name
            )
        figure.update_layout(
            height=300, xaxis_title="epoch", yaxis_title="reconstruction MSE", margin=dict(t=20)
        )
        chart(
            figure,
            "Reconstruction MSE after the last epoch: "
            + "; ".join(f"{name} {run.loss[-1]:.4f} (from {run.loss[0]:.4f})" for name, run in runs.ways())
            + ".",
            key=KEY + "ae_chart",
        )
        for name, run in runs.ways():
            st.caption(f"Trained {name}: the encoder's largest weight change was {run.moved:.2e}.")
        st.markdown("Test digits, then their reconstructions:")
        image_row(list(data.test.x[:SHOWN]), ["original"] * SHOWN, test_digit_alts(data))
        for name, run in runs.ways():
            image_row(
                list(run.reconstructions),
                [name.split(" ")[0]] * SHOWN,
                [f"Test digit #{k} as C trained {name} reconstructs it." for k in range(SHOWN)],
            )


def test_digit_alts(data) -> list[str]:
    """Alt texts for the first SHOWN test digits, the originals the reconstructions are compared with."""
    return [f"Test digit #{k}, a {data.class_names[data.test.y[k]]}." for k in range(SHOWN)]


# ---- transfer from a partial checkpoint -------------------------------------------------------------------
def transfer_tab(active: ActiveModel, data) -> None:
    st.markdown(
        "The source post restores **every variable but the logits** from a checkpoint: a classifier made of the "
        "same feature branch plus a new softmax layer takes the Siamese branch's weights by name, and only "
        "its new head starts from scratch. With **k labelled digits per class**, which works best?"
    )
    if active.config is None:
        st.warning(
            "This model carries no configuration (uploaded without Siamese Lab metadata), so its branch "
            "cannot be rebuilt."
        )
        return
    from siamese_core.lessons.transfer import (
        build_classifier,
        k_shot_conclusion,
        restore_all_but_head,
    )

    restored = restore_all_but_head(build_classifier(active.config), active.model)
    st.caption(
        f"Restored {len(restored)} variables by name ({', '.join(restored[:4])}, …); "
        f"`logits/kernel` and `logits/bias` keep their fresh initialisation."
    )
    rows = task_ui(
        "kshot",
        "Run the k-shot experiment (k = 1, 5, 10)",
        Task.K_SHOT,
        dict(model=active.model, config=active.config, data=model_dataset_ref(active), epochs=30),
        active.handle,
        help="9 small classifiers",
    )
    if rows:
        frame = pd.DataFrame([row.as_row() for row in rows])
        st.dataframe(
            frame.style.format({c: "{:.1%}" for c in frame.columns if c not in ("k", "labelled digits")}),
            hide_index=True,
            width="stretch",
        )
        long = frame.melt(id_vars=["k", "labelled digits"], var_name="method", value_name="test accuracy")
        figure = px.line(long, x="k", y="test accuracy", color="method", markers=True)
        figure.update_layout(height=340, yaxis_tickformat=".0%", margin=dict(t=20))
        chart(figure, k_shot_conclusion(rows), key=KEY + "kshot_chart", table_on_page=True)  # the table above
        st.caption(
            "Test accuracy on 1,000 test digits. The Siamese features were learnt from pairs only. "
            + k_shot_conclusion(rows)
        )


# ---- RankIQA ---------------------------------------------------------------------------------------------------
def operator_ui(levels: int, groups: int, margin: float) -> None:
    """The operator matrix O for these levels, and what the margin's scale means for it."""
    from siamese_core.lessons.ranking import operator_matrix

    matrix = operator_matrix(levels)
    left, right = st.columns([2, 3])
    left.caption(f"The operator matrix O ({levels} x {levels - 1}), built from the number of levels")
    left.dataframe(
        pd.DataFrame(matrix.astype(int), columns=[f"col {j + 1}" for j in range(levels - 1)]),
        hide_index=True,
        width="stretch",
    )
    right.markdown(
        f"A batch of **{groups} x {levels} = {groups * levels} images** (the post: 4 x 6 = 24) is scored and the "
        f"scores reshaped to R ({groups} x {levels}): one row per original, best level first. Column *j* of R @ O "
        f"is the sum of level *j*'s leads over every worse level; the loss is the mean of max(0, m − R @ O).\n\n"
        f"**Why the margin is {margin:g} here and about 1 for the digits.** The last column holds a single lead "
        f"(level {levels - 2} over level {levels - 1}), so it alone must reach m = {margin:g}; with even gaps the "
        f"scores then spread over at least ({levels} − 1) x {margin:g} = {(levels - 1) * margin:g}. The scorer's "
        "output is an unbounded number, so the margin only sets its scale. The digits' contrastive margin acts on "
        "a distance between embeddings (a cosine distance never exceeds 2), so it must sit inside that range."
    )


def ranking_tab(data) -> None:
    from siamese_core.lessons.ranking import KINDS, POST_SETTING, distort

    st.markdown(
        "RankIQA learns image **quality** without quality labels: it only knows that a more distorted copy "
        "is worse. A batch holds groups of one digit at every distortion level; one scorer scores them all, "
        "and the scores are reshaped to *(groups, levels)*.\n\n"
        "- **Operator matrix (the source post's form)**: column *j* of `scores @ O` sums the differences between "
        "level *j* and every worse level; the hinge `max(0, margin − column)` acts on that *sum*, so a big "
        "lead over one level can hide a wrong order with another.\n"
        "- **Per-pair hinge**: every ordered pair must be `margin` apart on its own: stricter, and what "
        "RankIQA's paper describes."
    )
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    kind = c1.selectbox("Distortion", KINDS, key=KEY + "rank_kind")
    levels = c2.slider("Levels", 3, 8, POST_SETTING["levels"], key=KEY + "rank_levels")
    groups = c3.slider(
        "Images per batch", 1, 8, POST_SETTING["groups_per_batch"], key=KEY + "rank_groups",
        help="Originals per batch; each comes with all its distorted copies (the post: 4, a batch of 24)",
    )  # fmt: skip
    loss = c4.selectbox("Loss", ["operator", "pairwise"], key=KEY + "rank_loss")
    margin = c5.number_input("Margin", 0.1, 1000.0, POST_SETTING["margin"], key=KEY + "rank_margin")
    steps = c6.slider("Training steps", 50, 600, 250, step=50, key=KEY + "rank_steps")
    operator_ui(levels, groups, margin)
    image_row(
        [distort(data.test.x[:1], level, kind)[0] for level in range(levels)],
        [f"level {level}" for level in range(levels)],
        [
            f"The first test digit with {kind} at level {level} of {levels - 1}"
            + (" (the original)." if level == 0 else ".")
            for level in range(levels)
        ],
    )
    result = task_ui(
        "rank",
        "Train the scorer",
        Task.RANKING,
        dict(
            train_x=data.train.x[:1000],
            test_x=data.test.x[:300],
            levels=levels,
            kind=kind,
            loss=loss,
            steps=steps,
            groups_per_batch=groups,
            margin=margin,
        ),
        owner=None,  # not tied to a model: the ranking lesson trains its own
    )
    if result:
        st.session_state[KEY + "rank"] = result
        left, right = st.columns(2)
        left.metric(
            f"SROCC on 300 held-out digits ({result.loss} loss, {result.kind})",
            f"{result.srocc:.3f}",
            help="Spearman rank correlation between the score and the true quality order; 1 is perfect",
        )
        scores = result.scores
        figure = go.Figure(
            go.Scatter(
                x=list(range(scores.shape[1])),
                y=scores.mean(0),
                error_y=dict(array=scores.std(0)),
                mode="lines+markers",
                name="mean score ± sd",
            )
        )
        figure.update_layout(
            height=300, xaxis_title="distortion level", yaxis_title="learned quality score", margin=dict(t=20)
        )
        means = scores.mean(0)
        chart(
            figure,
            f"Mean learned score from {means[0]:.3f} at level 0 to {means[-1]:.3f} at level {len(means) - 1}; "
            f"it falls at {sum(b < a for a, b in zip(means, means[1:], strict=False))} of "
            f"{len(means) - 1} steps to a worse level.",
            key=KEY + "rank_chart",
            where=left,
        )
        history = px.line(y=list(result.history), labels={"x": "step", "y": "ranking loss"})
        history.update_layout(height=300, margin=dict(t=20))
        chart(
            history,
            f"Ranking loss from {result.history[0]:.4f} at step 0 to {result.history[-1]:.4f} at step "
            f"{len(result.history) - 1}.",
            key=KEY + "rank_loss_chart",
            where=right,
        )
        terms = result.batch
        st.markdown(
            f"**One batch after training** (the first {len(terms.scores)} test digits at every level): its scores "
            f"R, R @ O, and the hinge max(0, {result.margin:g} − R @ O) whose mean is the operator loss."
        )
        shown = (("scores R", terms.scores), ("R @ O", terms.column_sums), ("hinge", terms.hinge))
        for column, (name, values) in zip(st.columns(3), shown, strict=True):
            column.caption(name)
            column.dataframe(pd.DataFrame(values).round(2), hide_index=True, width="stretch")


# ---- export, import, merge ------------------------------------------------------------------------------------------
def downloads_ui(active: ActiveModel) -> None:
    from siamese_core.network.persistence import model_bytes, weight_table, weights_npz

    model = active.model

    def keras_file() -> bytes:
        return model_bytes(model, active.config, threshold=active.threshold, dataset=active.dataset)

    def h5_file() -> bytes:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.weights.h5"
            model.save_weights(path)
            return path.read_bytes()

    st.markdown(
        "Download the session's model, its weights, or **every variable by name**, "
        "or upload a `.keras` model to use on every page."
    )
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        "Model (.keras)",
        keras_file,
        "siamese.keras",
        "application/zip",
        key=KEY + "dl_keras",
        icon=":material/download:",
        width="stretch",
    )
    d2.download_button(
        "Weights (.weights.h5)",
        h5_file,
        "siamese.weights.h5",
        "application/octet-stream",
        key=KEY + "dl_h5",
        icon=":material/download:",
        width="stretch",
    )
    d3.download_button(
        "Every variable by name (.npz)",
        lambda: weights_npz(model),
        "siamese_variables.npz",
        "application/octet-stream",
        key=KEY + "dl_npz",
        icon=":material/download:",
        width="stretch",
    )
    weights = pd.DataFrame(weight_table(model))
    st.dataframe(weights, hide_index=True, width="stretch", height=240, column_config=column_config(weights))


def upload_ui() -> None:
    from siamese_core.network.persistence import ModelProblem, config_from_meta, load_model_bytes

    upload = st.file_uploader(
        f"Use a .keras model (at most {MAX_MODEL_BYTES // 2**20} MB; loaded with safe_mode on)",
        type=["keras"],
        key=KEY + "upload",
        max_upload_size=MAX_MODEL_BYTES // 2**20,
    )
    if upload is None or st.session_state.get(KEY + "uploaded_id") == upload.file_id:
        return
    try:
        model, meta = load_model_bytes(upload.getvalue())
    except ModelProblem as exc:
        st.error(f"{upload.name}: {exc} Your current model is unchanged.")
        return
    st.session_state[KEY + "uploaded_id"] = upload.file_id
    st.session_state[MODEL] = ActiveModel(
        model,
        float(meta.get("threshold", 0.5)),
        UPLOADED,
        config_from_meta(meta),
        meta.get("dataset"),
        name=upload.name,
    )
    st.rerun()


def merge_ui(active: ActiveModel, data) -> None:
    st.subheader("Merge two models into one")
    st.markdown(
        "The source post builds one network from two trained ones. Here: the **encoder of the session's "
        "Siamese model** and the **decoder trained on the Composing models tab**. Each is copied with its "
        "variables created under its own name scope, `from_a/` and `from_b/`, so no two variables share a "
        "path even when both models used the same layer names."
    )
    owner, runs = st.session_state.get(KEY + "ae", (None, None))
    if owner != active.handle:  # none yet, or trained with another model's encoder
        st.info(
            "Train C on the Composing models tab first, with this model: its decoder is the second model."
        )
        return
    from siamese_core.lessons.compose import merge_models
    from siamese_core.network.models import embedding_model

    merged = merge_models(embedding_model(active.model), runs.jointly.decoder)
    paths = [v.path for v in merged.weights]
    scopes = sorted({p.split("/")[0] for p in paths})
    st.caption(
        f"Merged model: {merged.count_params():,} parameters in {len(paths)} variables under "
        f"{' and '.join(f'`{s}/`' for s in scopes)}; all paths distinct: {len(set(paths)) == len(paths)} "
        f"(for example `{paths[0]}`, `{paths[-1]}`)."
    )
    output = np.asarray(merged.predict(data.test.x[:SHOWN], verbose=0)) * 255
    image_row(list(data.test.x[:SHOWN]), ["original"] * SHOWN, test_digit_alts(data))
    image_row(
        list(output),
        ["merged"] * SHOWN,
        [f"Test digit #{k} after the merged encoder and decoder." for k in range(SHOWN)],
    )


st.title("More lessons")
model = active_model()
model_banner(model)
digits = model_dataset(model)
# on_change="rerun": only the open tab's code runs (each builds Keras models)
composing, transfer, ranking, export = st.tabs(TABS, key=KEY + "tab", on_change="rerun")
if composing.open:
    with composing:
        composing_tab(model, digits)
if transfer.open:
    with transfer:
        transfer_tab(model, digits)
if ranking.open:
    with ranking:
        ranking_tab(digits)
if export.open:
    with export:
        downloads_ui(model)
        upload_ui()
        merge_ui(model, digits)
