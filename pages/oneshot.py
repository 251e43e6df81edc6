"""Your own symbols: draw one example of a few new shapes, then let the network recognise new
drawings of them (one-shot), score it honestly, and see which model carries over better."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from siamese_core.lessons.oneshot import MAX_SYMBOLS, MAX_TESTS, MIN_SYMBOLS, NONE, QuizScore, rank_gallery
from siamese_core.network.preprocessing import MAX_UPLOAD_BYTES, ImageProblem, to_mnist_steps
from siamese_ui.announce import announce
from siamese_ui.canvas import canvas_ui, clear_canvas
from siamese_ui.charts import chart
from siamese_ui.palette import BLUE
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.session import PRETRAINED, ActiveModel, active_model, model_dataset, pretrained_model

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

GALLERY = "oneshot.gallery"  # name -> 28x28 uint8, this session only
BASELINES = "oneshot.baselines"  # (model handle, n) -> (accuracy on MNIST digits, which digits)
QUIZ = "oneshot.scores"  # model handle -> QuizScore: a retrained model is a new handle, a new score
CANVAS = "oneshot."  # + purpose (enrol, query, quiz): the canvas's keys (siamese_ui/canvas.py)
MAX_NAME = 20


def canvas(purpose: str, clear_key: str | None = None) -> np.ndarray | None:
    """A drawing canvas (enrol, query, quiz) that keeps its drawing across pages; its RGBA image,
    or None while it is empty."""
    return canvas_ui(CANVAS + purpose, stroke_width=14, clear_key=clear_key)


def picture_source(purpose: str, source_key: str, upload_key: str):
    """Draw on a canvas, or upload a picture: the canvas's RGBA image, the file's bytes, or None.
    The upload is also the keyboard's way in (a canvas needs a mouse, a finger or a pen)."""
    source = st.radio(
        "Source",
        ["Draw", "Upload"],
        horizontal=True,
        key=source_key,
        label_visibility="collapsed",
        help="Upload: a picture of the symbol, drawn on paper or in any drawing program.",
    )
    if source == "Draw":
        return canvas(purpose, clear_key="oneshot.clear_query" if purpose == "query" else None)
    upload = st.file_uploader(
        f"A picture of the symbol (at most {MAX_UPLOAD_BYTES // 2**20} MB)",
        type=["png", "jpg", "jpeg", "bmp", "gif"],
        key=upload_key,
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    return upload.getvalue() if upload is not None else None


def clear(purpose: str) -> None:
    clear_canvas(CANVAS + purpose)


def models_ui() -> list[ActiveModel]:
    """The models to ask: the session's, and the pretrained one beside it when they differ."""
    active = active_model()
    models = [active]
    if active.source != PRETRAINED and st.toggle(
        "Compare with the pretrained model, side by side", value=True, key="oneshot.both"
    ):
        models.append(pretrained_model())
    return models


def name_problem(name: str, gallery: dict) -> str:
    if not name:
        return "Give the symbol a name first."
    if len(name) > MAX_NAME or not name.isprintable():
        return f"A name is at most {MAX_NAME} printable characters."
    if name in gallery or name == NONE:
        return f"'{name}' is taken: choose another name."
    return ""


def enrol_ui(gallery: dict) -> None:
    """Step 1: one example of each new symbol, drawn or uploaded, named."""
    st.subheader(f"1 · Enrol {MIN_SYMBOLS} to {MAX_SYMBOLS} symbols, one example each")
    if len(gallery) >= MAX_SYMBOLS:
        st.caption(f"The gallery is full ({MAX_SYMBOLS} symbols): remove one to enrol another.")
        return
    left, right = st.columns([1, 2])
    with left:
        picture = picture_source("enrol", "oneshot.source", "oneshot.upload")
    with right:
        if st.session_state.pop("oneshot.enrolled", False):
            st.session_state["oneshot.name"] = ""  # before the box is drawn: ready for the next symbol
        name = st.text_input(
            "Its name", key="oneshot.name", max_chars=MAX_NAME, placeholder="a star, an arrow, your initials…"
        ).strip()
        if st.button("Enrol this symbol", type="primary", key="oneshot.enrol", icon=":material/add:"):
            problem = name_problem(name, gallery)
            if not problem and picture is None:
                problem = "Draw the symbol (or upload a picture of it) first."
            if not problem:
                try:
                    gallery[name] = to_mnist_steps(picture).digit
                except ImageProblem as exc:
                    problem = str(exc)
            if problem:
                st.warning(f"Not enrolled: {problem}")
            else:
                st.session_state.pop(QUIZ, None)  # a new gallery is a new quiz
                st.session_state["oneshot.enrolled"] = True
                clear("enrol")
                st.rerun()


def _remove(name: str) -> None:
    st.session_state[GALLERY].pop(name, None)
    st.session_state.pop(QUIZ, None)


def gallery_ui(gallery: dict) -> None:
    """The gallery as the network sees it: each symbol's 28x28."""
    if not gallery:
        st.info("Nothing enrolled yet: draw a shape, name it, press **Enrol this symbol**.")
        return
    for column, (name, image) in zip(st.columns(MAX_SYMBOLS), gallery.items(), strict=False):
        column.image(
            digit_image(image, 4),
            caption=name,
            alt=f"Your symbol {name} after preprocessing, as the network sees it: 28x28 pixels, white on black.",
        )
        column.button("Remove", key=f"oneshot.remove.{name}", on_click=_remove, args=(name,))


def ranking_chart(ranking) -> go.Figure:
    within = [score < ranking.threshold for score in ranking.scores]
    figure = go.Figure(
        go.Bar(
            x=list(ranking.scores),
            y=list(ranking.names),
            orientation="h",
            # within the threshold: blue and solid; beyond it: grey and hatched, and the text says so
            marker=dict(
                color=[BLUE if w else "#b8bbc4" for w in within],
                pattern_shape=["" if w else "/" for w in within],
            ),
            text=[
                f"{s:.3f}" + (" · within" if w else " · beyond")
                for s, w in zip(ranking.scores, within, strict=True)
            ],
            textposition="auto",
        )
    )
    figure.add_vline(
        x=ranking.threshold,
        line=dict(color="black", dash="dash"),
        annotation_text=f"threshold {ranking.threshold:.3f}",
    )
    figure.update_layout(
        height=80 + 40 * len(ranking.names),
        margin=dict(t=30, b=10, l=10, r=10),
        xaxis_title="distance (smaller: more alike)",
        yaxis=dict(autorange="reversed"),
    )
    return figure


def recognise_ui(gallery: dict, models) -> None:
    """Step 2: a new drawing, ranked against the gallery by each model."""
    st.subheader("2 · Draw one of them again: which is it?")
    left, right = st.columns([1, 2])
    with left:
        drawing = picture_source("query", "oneshot.source.query", "oneshot.upload.query")
    if drawing is None:
        right.info("Draw (or upload) a new example of one of your symbols.")
        return
    try:
        query = to_mnist_steps(drawing).digit
    except ImageProblem as exc:
        right.warning(str(exc))
        return
    with right:
        for column, asked in zip(st.columns(len(models)), models, strict=True):
            ranking = rank_gallery(asked.model, gallery, query, asked.threshold)
            with column:
                st.markdown(f"**{asked.label}**")
                if ranking.verdict == NONE:
                    st.warning(
                        f"None of these: the nearest, *{ranking.best}*, is {ranking.scores[0]:.3f} away, "
                        f"not below the threshold {asked.threshold:.3f}."
                    )
                else:
                    st.success(f"It is **{ranking.verdict}**")
                said = (
                    f"None of these: nearest {ranking.best}"
                    if ranking.verdict == NONE
                    else f"It is {ranking.verdict}"
                )
                announce(
                    f"oneshot.verdict.{asked.handle}",
                    f"{asked.label}: {said}, distance {ranking.scores[0]:.3f}.",
                    kind=f"{said} {ranking.scores[0]:.4f}",
                )
                chart(
                    ranking_chart(ranking),
                    "Distance to each symbol: "
                    + ", ".join(f"{n} {s:.3f}" for n, s in zip(ranking.names, ranking.scores, strict=True))
                    + f"; the threshold is {asked.threshold:.3f}.",
                    key=f"oneshot.chart.{asked.handle}",
                )


def digits_baseline(asked: ActiveModel, n_way: int) -> tuple[float, str]:
    """The same n-way one-shot accuracy on MNIST test digits, once per model and n: on the
    digits it never trained on when it held some out, else on the test digits of its classes."""
    from siamese_core.lessons.oneshot import one_shot_digits

    store = st.session_state.setdefault(BASELINES, {})
    key = (asked.handle, n_way)
    if key not in store:
        data = model_dataset(asked)
        held = tuple(data.held_out_classes)
        classes = held if len(held) >= n_way else None
        with st.spinner("Measuring one-shot accuracy on MNIST digits…"):
            accuracy = one_shot_digits(
                asked.model, data.test.x, data.test.y, n_way, trials=200, classes=classes
            )
        if classes:
            where = f"held-out digits {list(held)}, never trained on"
        elif held:
            where = f"all MNIST test digits (only {len(held)} of its classes were held out)"
        else:
            where = "MNIST test digits (of classes it trained on)"
        store[key] = (accuracy, where)
    return store[key]


def quiz_ui(gallery: dict, models) -> None:
    """Step 3: "test me": draw each symbol several more times; the score is kept honestly."""
    st.subheader("3 · Test me")
    names = tuple(gallery)
    quiz = st.session_state.setdefault(QUIZ, {})
    for asked in models:
        quiz.setdefault(asked.handle, QuizScore(names))  # a retrained model starts its own score
    done = max(len(quiz[asked.handle].truths) for asked in models)
    if done >= MAX_TESTS:
        st.caption(
            f"{MAX_TESTS} drawings scored: that is the round. Remove or enrol a symbol to start again."
        )
    else:
        target = names[done % len(names)]
        left, right = st.columns([1, 2])
        with left:
            st.markdown(f"Draw **{target}** ({done + 1} of up to {MAX_TESTS})")
            drawing = picture_source("quiz", "oneshot.source.quiz", "oneshot.upload.quiz")
            if st.button("Check", key="oneshot.check", type="primary"):
                query = None
                if drawing is None:
                    st.warning(f"Draw {target} on the canvas (or upload a picture of it) first.")
                else:
                    try:
                        query = to_mnist_steps(drawing).digit
                    except ImageProblem as exc:
                        st.warning(str(exc))
                if query is not None:
                    for asked in models:
                        quiz[asked.handle].add(
                            target, rank_gallery(asked.model, gallery, query, asked.threshold)
                        )
                    clear("quiz")
                    st.rerun()
        with right:
            st.caption(
                "Each symbol in turn; the score counts 'none of these' as wrong, as a one-shot test should."
            )
    for column, asked in zip(st.columns(len(models)), models, strict=True):
        score = quiz[asked.handle]
        with column:
            st.markdown(f"**{asked.label}**")
            baseline, where = digits_baseline(asked, len(names))
            figures = st.columns(2)
            figures[0].metric(
                f"{len(names)}-way one-shot, your drawings",
                "—" if score.accuracy is None else f"{100 * score.accuracy:.0f}%",
                help=f"{len(score.truths)} drawings scored, {score.rejected} of them 'none of these' by the threshold; "
                f"chance is {100 / len(names):.0f}%",
            )
            figures[1].metric(
                f"{len(names)}-way one-shot, MNIST",
                f"{100 * baseline:.0f}%",
                help=f"200 trials on {where}, with the same model and score",
            )
            if score.truths:
                import pandas as pd

                table = pd.DataFrame(
                    score.confusion(),
                    index=[f"drew {n}" for n in names],
                    columns=[f"nearest: {n}" for n in names],
                )
                st.dataframe(table, width="stretch")


st.title("Your own symbols")
st.markdown(
    "A Siamese network compares things it was **never trained on**: one example of each is enough. "
    "Enrol a few shapes of your own (letters, arrows, a star, your initials), then draw them again and see "
    "whether a network trained only on digits can tell them apart."
)
my_gallery = st.session_state.setdefault(GALLERY, {})
asked = models_ui()
enrol_ui(my_gallery)
gallery_ui(my_gallery)
if len(my_gallery) >= MIN_SYMBOLS:
    st.divider()
    recognise_ui(my_gallery, asked)
    st.divider()
    quiz_ui(my_gallery, asked)
elif my_gallery:
    st.caption(f"Enrol at least {MIN_SYMBOLS} symbols to start recognising.")
