"""More lessons from the source posts: composing models, transfer learning, ranking (RankIQA),
exporting and merging weights. Each runs on the session's model; only the open tab runs, and
every training goes through the server's training limit as a background task."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import LANGUAGES, N_, _, in_language, ngettext, shown_as
from siamese_core.network.persistence import MAX_MODEL_BYTES
from siamese_core.tasks import ModelCall, Task
from siamese_ui.charts import chart
from siamese_ui.formatting import column_config, sentences
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import image_row
from siamese_ui.run_control import task_ui
from siamese_ui.service import ask
from siamese_ui.session import (
    MODEL,
    UPLOADED,
    ActiveModel,
    active_model,
    model_banner,
    model_cache,
    model_dataset,
    model_dataset_ref,
)
from siamese_ui.student import keep_settings

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

KEY = "lessons."  # session and widget keys of this page
# Only the open tab runs (st.tabs(on_change="rerun")), so Streamlit drops the widgets of the others:
# a tab's settings are kept for the session, or they came back as the defaults beside a result
# trained with other ones (an exploratory session).
PERSIST = "session"
# ... and for the student, as the results are (a reload finds the student's last lesson result through
# the cookie, and showed it under the default settings: an exploratory session)
SETTINGS = KEY + "settings"
SETTING_KEYS = tuple(
    KEY + name
    for name in (
        "tab",
        "ae_epochs",
        "rank_kind",
        "rank_levels",
        "rank_groups",
        "rank_loss",
        "rank_margin",
        "rank_steps",
    )
)
TABS = [  # the tabs' names in English (the tab's value in the session: _(name) in the reader's language)
    N_("Composing models"),
    N_("Transfer learning"),
    N_("Learning to rank (RankIQA)"),
    N_("Export, import, merge"),
]
SHOWN = 8  # test digits shown as pictures
# weight_table's columns, as the page names them (translated where shown)
WEIGHT_COLUMNS = {"variable": N_("variable"), "shape": N_("shape"), "parameters": N_("parameters")}


# ---- composing an encoder and a decoder: C = B(A(x)) ---------------------------------------------
def composing_tab(active: ActiveModel, data) -> None:
    from siamese_core.lessons.compose import JOINTLY, reconstruction_sentence

    st.markdown(
        _(
            "Take the trained feature branch as an **encoder A**, add a **decoder B** (Dense, then two "
            "Conv2DTranspose up to 28x28) and connect them into **C = B(A(x))**, two ways: by *calling the "
            "models* (nesting) or by *re-applying their layers one by one* (the source post's way). C creates "
            "no new variables: it is A's and B's. Train C **jointly** (A learns too) or **separately** "
            "(A frozen)."
        )
    )
    counts = model_cache(active).get_or_compute(
        "composition", lambda: ask(ModelCall.COMPOSITION, model=active.model)
    )
    figures = st.columns(5)
    figures[0].metric(_("A (encoder)"), f"{counts.encoder:,}")
    figures[1].metric(_("B (decoder)"), f"{counts.decoder:,}")
    figures[2].metric(_("C nested"), f"{counts.nested:,}")
    figures[3].metric(_("C layer by layer"), f"{counts.layered:,}")
    figures[4].metric(_("C's variables are A's and B's"), _("yes") if counts.shared else _("no"))
    epochs = st.slider(_("Epochs"), 1, 8, 3, key=KEY + "ae_epochs", persist_state=PERSIST)
    runs = task_ui(
        "autoencoder",
        _("Train C both ways"),
        Task.AUTOENCODER,
        dict(model=active.model, images=data.train.x[:3000], tests=data.test.x[:SHOWN], epochs=epochs),
        active.handle,
        help=_("3,000 training digits, twice"),
    )
    if runs:
        st.session_state[KEY + "ae"] = (active.handle, runs)  # the decoder fits this model's encoder
        figure = go.Figure()
        for name, run in runs.ways():
            figure.add_scatter(
                x=list(range(1, len(run.loss) + 1)), y=list(run.loss), mode="lines+markers", name=_(name)
            )
        jointly, frozen = runs.jointly, runs.frozen
        epochs_run = len(jointly.loss)
        figure.update_layout(
            height=300,
            xaxis=dict(title=_("epoch"), dtick=1, range=[0.5, epochs_run + 0.5]),  # whole epochs only
            yaxis_title=_("reconstruction MSE"),
            margin=dict(t=20),
        )
        chart(figure, reconstruction_sentence(jointly.loss, frozen.loss), key=KEY + "ae_chart")
        for name, run in runs.ways():
            st.caption(
                _("Trained {way}: the encoder's largest weight change was {moved:.2e}.").format(
                    way=_(name), moved=run.moved
                )
            )
        st.markdown(_("Test digits, then their reconstructions:"))
        image_row(list(data.test.x[:SHOWN]), [_("original")] * SHOWN, test_digit_alts(data))
        for name, run in runs.ways():
            image_row(
                list(run.reconstructions),
                [_("jointly") if name == JOINTLY else _("separately")] * SHOWN,
                [
                    _("Test digit #{k} as C trained {way} reconstructs it.").format(k=k, way=_(name))
                    for k in range(SHOWN)
                ],
            )


def test_digit_alts(data) -> list[str]:
    """Alt texts for the first SHOWN test digits, the originals the reconstructions are compared with."""
    return [
        _("Test digit #{k}, a {name}.").format(k=k, name=data.class_names[data.test.y[k]])
        for k in range(SHOWN)
    ]


# ---- transfer from a partial checkpoint -------------------------------------------------------------------
def transfer_tab(active: ActiveModel, data) -> None:
    st.markdown(
        _(
            "The source post restores **every variable but the logits** from a checkpoint: a classifier made "
            "of the same feature branch plus a new softmax layer takes the Siamese branch's weights by name, "
            "and only its new head starts from scratch. With **k labelled digits per class**, which works best?"
        )
    )
    if active.config is None:
        st.warning(
            _(
                "This model carries no configuration (uploaded without Siamese Lab metadata), so its branch "
                "cannot be rebuilt."
            )
        )
        return
    from siamese_core.lessons.transfer import LABELLED, k_shot_conclusion

    restored = model_cache(active).get_or_compute(
        "restored", lambda: ask(ModelCall.RESTORED, model=active.model, config=active.config)
    )
    st.caption(
        ngettext(
            "Restored {n} variable by name ({names}, …); `logits/kernel` and `logits/bias` keep their fresh "
            "initialisation.",
            "Restored {n} variables by name ({names}, …); `logits/kernel` and `logits/bias` keep their fresh "
            "initialisation.",
            len(restored),
        ).format(n=len(restored), names=", ".join(restored[:4]))
    )
    rows = task_ui(
        "kshot",
        _("Run the k-shot experiment (k = 1, 5, 10)"),
        Task.K_SHOT,
        dict(model=active.model, config=active.config, data=model_dataset_ref(active), epochs=30),
        active.handle,
        help=_("9 small classifiers"),
    )
    if rows:
        # the rows' English column names, shown in the reader's language
        frame = pd.DataFrame([row.as_row() for row in rows]).rename(columns=_)
        labelled, method, accuracy = _(LABELLED), _("method"), _("test accuracy")
        st.dataframe(
            frame.style.format({c: "{:.1%}" for c in frame.columns if c not in ("k", labelled)}),
            hide_index=True,
            width="stretch",
        )
        long = frame.melt(id_vars=["k", labelled], var_name=method, value_name=accuracy)
        figure = px.line(long, x="k", y=accuracy, color=method, markers=True)
        figure.update_layout(height=340, yaxis_tickformat=".0%", margin=dict(t=20))
        conclusion = k_shot_conclusion(rows)
        chart(figure, conclusion, key=KEY + "kshot_chart", table_on_page=True)  # the table above
        st.caption(  # the conclusion is the chart's own caption, just above: said once
            _("Test accuracy on 1,000 test digits. The Siamese features were learnt from pairs only.")
        )


# ---- RankIQA ---------------------------------------------------------------------------------------------------
def operator_ui(levels: int, groups: int, margin: float) -> None:
    """The operator matrix O for these levels, and what the margin's scale means for it."""
    from siamese_core.lessons.ranking import operator_matrix

    matrix = operator_matrix(levels)
    left, right = st.columns([2, 3])
    left.caption(
        _("The operator matrix O ({rows} x {columns}), built from the number of levels").format(
            rows=levels, columns=levels - 1
        )
    )
    left.dataframe(
        pd.DataFrame(matrix.astype(int), columns=[_("col {j}").format(j=j + 1) for j in range(levels - 1)]),
        hide_index=True,
        width="stretch",
    )
    right.markdown(
        _(
            "A batch of **{groups} x {levels} = {images} images** (the post: 4 x 6 = 24) is scored and the "
            "scores reshaped to R ({groups} x {levels}): one row per original, best level first. Column *j* of "
            "R @ O is the sum of level *j*'s leads over every worse level; the loss is the mean of "
            "max(0, m − R @ O).\n\n"
            "**Why the margin is {margin:g} here and about 1 for the digits.** The last column holds a single "
            "lead (level {second_worst} over level {worst}), so it alone must reach m = {margin:g}; with even "
            "gaps the scores then spread over at least ({levels} − 1) x {margin:g} = {spread:g}. The scorer's "
            "output is an unbounded number, so the margin only sets its scale. The digits' contrastive margin "
            "acts on a distance between embeddings (a cosine distance never exceeds 2), so it must sit inside "
            "that range."
        ).format(
            groups=groups,
            levels=levels,
            images=groups * levels,
            margin=margin,
            second_worst=levels - 2,
            worst=levels - 1,
            spread=(levels - 1) * margin,
        )
    )


def ranking_tab(data) -> None:
    from siamese_core.lessons.ranking import KIND_NAMES, KINDS, LOSS_NAMES, LOSSES, POST_SETTING, distort

    st.markdown(
        _(
            "RankIQA learns image **quality** without quality labels: it only knows that a more distorted "
            "copy is worse. A batch holds groups of one digit at every distortion level; one scorer scores "
            "them all, and the scores are reshaped to *(groups, levels)*.\n\n"
            "- **Operator matrix (the source post's form)**: column *j* of `scores @ O` sums the differences "
            "between level *j* and every worse level; the hinge `max(0, margin − column)` acts on that *sum*, "
            "so a big lead over one level can hide a wrong order with another.\n"
            "- **Per-pair hinge**: every ordered pair must be `margin` apart on its own: stricter, and what "
            "RankIQA's paper describes."
        )
    )
    c1, c2, c3, c4, c5, c6 = st.columns(6)
    kind = c1.selectbox(
        _("Distortion"),
        KINDS,
        key=KEY + "rank_kind",
        persist_state=PERSIST,
        format_func=shown_as(KIND_NAMES),
    )
    levels = c2.slider(
        _("Levels"), 3, 8, POST_SETTING["levels"], key=KEY + "rank_levels", persist_state=PERSIST
    )
    groups = c3.slider(
        _("Images per batch"), 1, 8, POST_SETTING["groups_per_batch"], key=KEY + "rank_groups", persist_state=PERSIST,
        help=_("Originals per batch; each comes with all its distorted copies (the post: 4, a batch of 24)"),
    )  # fmt: skip
    loss = c4.selectbox(
        _("Loss"),
        list(LOSSES),
        key=KEY + "rank_loss",
        persist_state=PERSIST,
        format_func=shown_as(LOSS_NAMES),
    )
    margin = c5.number_input(
        _("Margin"), 0.1, 1000.0, POST_SETTING["margin"], key=KEY + "rank_margin", persist_state=PERSIST
    )
    steps = c6.slider(
        _("Training steps"), 50, 600, 250, step=50, key=KEY + "rank_steps", persist_state=PERSIST
    )
    operator_ui(levels, groups, margin)
    kind_name = _(KIND_NAMES[kind])
    image_row(
        [distort(data.test.x[:1], level, kind)[0] for level in range(levels)],
        [_("level {level}").format(level=level) for level in range(levels)],
        [
            (
                _("The first test digit with {kind} at level {level} of {worst} (the original).")
                if level == 0
                else _("The first test digit with {kind} at level {level} of {worst}.")
            ).format(kind=kind_name, level=level, worst=levels - 1)
            for level in range(levels)
        ],
    )
    result = task_ui(
        "rank",
        _("Train the scorer"),
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
            _("SROCC on 300 held-out digits ({loss} loss, {kind})").format(
                loss=_(LOSS_NAMES[result.loss]), kind=_(KIND_NAMES[result.kind])
            ),
            f"{result.srocc:.3f}",
            help=_("Spearman rank correlation between the score and the true quality order; 1 is perfect"),
        )
        scores = result.scores
        figure = go.Figure(
            go.Scatter(
                x=list(range(scores.shape[1])),
                y=scores.mean(0),
                error_y=dict(array=scores.std(0)),
                mode="lines+markers",
                name=_("mean score ± sd"),
            )
        )
        figure.update_layout(
            height=300,
            xaxis_title=_("distortion level"),
            yaxis_title=_("learned quality score"),
            margin=dict(t=20),
        )
        means = scores.mean(0)
        chart(
            figure,
            ngettext(
                "Mean learned score from {first:.3f} at level 0 to {last:.3f} at level {worst}; it falls at "
                "{falls} of {worst} step to a worse level.",
                "Mean learned score from {first:.3f} at level 0 to {last:.3f} at level {worst}; it falls at "
                "{falls} of {worst} steps to a worse level.",
                len(means) - 1,
            ).format(
                first=means[0],
                last=means[-1],
                worst=len(means) - 1,
                falls=sum(b < a for a, b in zip(means, means[1:], strict=False)),
            ),
            key=KEY + "rank_chart",
            where=left,
        )
        history = px.line(y=list(result.history), labels={"x": _("step"), "y": _("ranking loss")})
        history.update_layout(height=300, margin=dict(t=20))
        chart(
            history,
            _("Ranking loss from {first:.4f} at step 0 to {last:.4f} at step {steps}.").format(
                first=result.history[0], last=result.history[-1], steps=len(result.history) - 1
            ),
            key=KEY + "rank_loss_chart",
            where=right,
        )
        terms = result.batch
        laid_out = _(
            "**One batch after training** (the first {n} test digits at every level): its scores R, R @ O, "
            "and the hinge max(0, {margin:g} − R @ O) whose mean is the operator loss."
        ).format(n=len(terms.scores), margin=result.margin)
        if result.loss != "operator":  # the table is the operator's layout: say it is not what trained
            laid_out = sentences(
                laid_out,
                _(
                    "This scorer trained with the {loss} loss: the table shows what the operator loss would "
                    "make of the same scores."
                ).format(loss=_(LOSS_NAMES[result.loss])),
            )
        st.markdown(laid_out)
        shown = ((_("scores R"), terms.scores), ("R @ O", terms.column_sums), (_("hinge"), terms.hinge))
        for column, (name, values) in zip(st.columns(3), shown, strict=True):
            column.caption(name)
            column.dataframe(pd.DataFrame(values).round(2), hide_index=True, width="stretch")


def keep_open_tab_across_languages(labels: list[str]) -> None:
    """The tab's value is its label: after a language switch, the open tab's name in the other
    language becomes its name in this one, so the same tab stays open."""
    open_tab = st.session_state.get(KEY + "tab")
    if open_tab is None or open_tab in labels:
        return
    for name, label in zip(TABS, labels, strict=True):
        if open_tab in {in_language(language, name) for language in LANGUAGES}:
            st.session_state[KEY + "tab"] = label
            return


# ---- export, import, merge ------------------------------------------------------------------------------------------
def downloads_ui(active: ActiveModel) -> None:
    model = active.model

    def keras_file() -> bytes:
        return ask(
            ModelCall.DOWNLOAD,
            model=model,
            kind="keras",
            config=active.config,
            threshold=active.threshold,
            dataset=active.dataset,
        )

    def h5_file() -> bytes:
        return ask(ModelCall.DOWNLOAD, model=model, kind="h5")

    st.markdown(
        _(
            "Download the session's model, its weights, or **every variable by name**, or upload a `.keras` "
            "model to use on every page."
        )
    )
    d1, d2, d3 = st.columns(3)
    d1.download_button(
        _("Model (.keras)"),
        keras_file,
        "siamese.keras",
        "application/zip",
        key=KEY + "dl_keras",
        icon=":material/download:",
        width="stretch",
    )
    d2.download_button(
        _("Weights (.weights.h5)"),
        h5_file,
        "siamese.weights.h5",
        "application/octet-stream",
        key=KEY + "dl_h5",
        icon=":material/download:",
        width="stretch",
    )
    d3.download_button(
        _("Every variable by name (.npz)"),
        lambda: ask(ModelCall.DOWNLOAD, model=model, kind="npz"),
        "siamese_variables.npz",
        "application/octet-stream",
        key=KEY + "dl_npz",
        icon=":material/download:",
        width="stretch",
    )
    table = model_cache(active).get_or_compute("weights", lambda: ask(ModelCall.WEIGHT_TABLE, model=model))
    weights = pd.DataFrame(table).rename(columns=lambda name: _(WEIGHT_COLUMNS.get(name, name)))
    st.dataframe(weights, hide_index=True, width="stretch", height=240, column_config=column_config(weights))


def upload_ui() -> None:
    from siamese_core.network.persistence import ModelProblem, config_from_meta

    upload = st.file_uploader(
        _("Use a .keras model (at most {megabytes} MB; loaded with safe_mode on)").format(
            megabytes=MAX_MODEL_BYTES // 2**20
        ),
        type=["keras"],
        key=KEY + "upload",
        max_upload_size=MAX_MODEL_BYTES // 2**20,
    )
    if upload is None or st.session_state.get(KEY + "uploaded_id") == upload.file_id:
        return
    try:
        model, meta = ask(ModelCall.LOAD_UPLOAD, data=upload.getvalue())
    except ModelProblem as exc:
        st.error(
            _("{file}: {problem} Your current model is unchanged.").format(file=upload.name, problem=exc)
        )
        return
    st.session_state[KEY + "uploaded_id"] = upload.file_id
    st.session_state[MODEL] = ActiveModel(
        model,
        float(meta.get("threshold", 0.5)),
        UPLOADED,
        config_from_meta(meta),
        meta.get("dataset"),
        handle=model.handle,
        name=upload.name,
    )
    st.rerun()


def merge_ui(active: ActiveModel, data) -> None:
    st.subheader(_("Merge two models into one"))
    st.markdown(
        _(
            "The source post builds one network from two trained ones. Here: the **encoder of the session's "
            "Siamese model** and the **decoder trained on the Composing models tab**. Each is copied with its "
            "variables created under its own name scope, `from_a/` and `from_b/`, so no two variables share a "
            "path even when both models used the same layer names."
        )
    )
    owner, runs = st.session_state.get(KEY + "ae", (None, None))
    if owner != active.handle:  # none yet, or trained with another model's encoder
        st.info(
            _("Train C on the Composing models tab first, with this model: its decoder is the second model.")
        )
        return
    shown = data.test.x[:SHOWN]
    merged = ask(ModelCall.MERGED, model=active.model, decoder=runs.jointly.decoder, images=shown)
    paths = list(merged.paths)
    scopes = sorted({p.split("/")[0] for p in paths})
    distinct = len(set(paths)) == len(paths)
    st.caption(
        _(
            "Merged model: {parameters:,} parameters in {variables} variables under {scopes}; all paths "
            "distinct: {distinct} (for example `{first}`, `{last}`)."
        ).format(
            parameters=merged.parameters,
            variables=len(paths),
            scopes=_(" and ").join(f"`{s}/`" for s in scopes),
            distinct=_("True") if distinct else _("False"),  # Python's answer, as the check reads
            first=paths[0],
            last=paths[-1],
        )
    )
    output = merged.output * 255
    image_row(list(data.test.x[:SHOWN]), [_("original")] * SHOWN, test_digit_alts(data))
    image_row(
        list(output),
        [_("merged")] * SHOWN,
        [_("Test digit #{k} after the merged encoder and decoder.").format(k=k) for k in range(SHOWN)],
    )


st.title(_("More lessons"))
model = active_model()
model_banner(model)
digits = model_dataset(model)
remember_settings = keep_settings(SETTINGS, SETTING_KEYS)  # before the widgets
labels = [_(name) for name in TABS]
keep_open_tab_across_languages(labels)
# on_change="rerun": only the open tab's code runs (each builds Keras models)
composing, transfer, ranking, export = st.tabs(labels, key=KEY + "tab", on_change="rerun")
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
remember_settings()
