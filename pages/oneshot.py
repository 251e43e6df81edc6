"""Your own symbols: draw one example of a few new shapes, then let the network recognise new
drawings of them (one-shot), score it honestly, and see which model carries over better."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import N_, _, ngettext, shown_as
from siamese_core.lessons.oneshot import MAX_SYMBOLS, MAX_TESTS, MIN_SYMBOLS, NONE, QuizScore
from siamese_core.network.preprocessing import MAX_UPLOAD_BYTES, ImageProblem, to_mnist_steps
from siamese_core.tasks import ModelCall
from siamese_ui.announce import announce
from siamese_ui.canvas import canvas_ui, clear_canvas
from siamese_ui.charts import chart
from siamese_ui.palette import BLUE
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.service import ask
from siamese_ui.session import (
    PRETRAINED,
    ActiveModel,
    active_model,
    model_dataset,
    model_dataset_ref,
    pretrained_model,
)
from siamese_ui.student import kept  # a reload emptied a gallery of four symbols: exploratory session

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

GALLERY = "oneshot.gallery"  # name -> 28x28 uint8, this student's (student.Kept: a reload finds it)
BASELINES = "oneshot.baselines"  # (model handle, n) -> (accuracy on MNIST digits, which digits)
TRIALS = 200  # the MNIST baseline's one-shot trials
QUIZ = "oneshot.scores"  # model handle -> QuizScore: a retrained model is a new handle, a new score


CANVAS = "oneshot."  # + purpose (enrol, query, quiz): the canvas's keys (siamese_ui/canvas.py)
MAX_NAME = 20
SOURCES = {"Draw": N_("Draw"), "Upload": N_("Upload")}  # the source radio's values and what it shows
# + purpose: a number in the uploader's key, counted up when its picture has been used (a new key
# empties the box, as a used drawing is wiped: Check pressed again scored the same upload as the next
# symbol, an exploratory session)
UPLOADS = "oneshot.uploads."
# Draw or Upload, for each of the page's three pictures: this student's (student.Kept), so a reload
# or a second tab keeps a student who uploads (the keyboard's way in) on Upload
SOURCE_CHOICES = "oneshot.source_choices"


def canvas(purpose: str, clear_key: str | None = None) -> np.ndarray | None:
    """A drawing canvas (enrol, query, quiz) that keeps its drawing across pages; its RGBA image,
    or None while it is empty."""
    return canvas_ui(CANVAS + purpose, stroke_width=14, clear_key=clear_key)


def picture_source(purpose: str, source_key: str, upload_key: str):
    """Draw on a canvas, or upload a picture: the canvas's RGBA image, the file's bytes, or None.
    The upload is also the keyboard's way in (a canvas needs a mouse, a finger or a pen)."""
    chosen = kept(SOURCE_CHOICES)
    if source_key not in st.session_state and chosen.get(source_key) in SOURCES:
        # before the radio: a new session of this student (a reload, a second tab), or a return
        # from another page (Streamlit dropped the radio's state while it was not drawn)
        st.session_state[source_key] = chosen[source_key]
    source = st.radio(
        _("Source"),
        list(SOURCES),
        # the session's language bound now: AppTest calls format_func outside the script run
        format_func=shown_as(SOURCES),
        horizontal=True,
        key=source_key,
        label_visibility="collapsed",
        help=_("Upload: a picture of the symbol, drawn on paper or in any drawing program."),
        # kept only when the student changes it: an older tab's rerun must not write its own back
        on_change=lambda: chosen.__setitem__(source_key, st.session_state[source_key]),
    )
    if source == "Draw":
        return canvas(purpose, clear_key="oneshot.clear_query" if purpose == "query" else None)
    upload = st.file_uploader(
        _("A picture of the symbol (at most {megabytes} MB)").format(megabytes=MAX_UPLOAD_BYTES // 2**20),
        type=["png", "jpg", "jpeg", "bmp", "gif"],
        key=f"{upload_key}.{st.session_state.get(UPLOADS + purpose, 0)}",
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
    )
    return upload.getvalue() if upload is not None else None


def clear(purpose: str) -> None:
    """The picture has been used: the canvas is wiped and the uploader emptied."""
    clear_canvas(CANVAS + purpose)
    st.session_state[UPLOADS + purpose] = st.session_state.get(UPLOADS + purpose, 0) + 1


def models_ui() -> list[ActiveModel]:
    """The models to ask: the session's, and the pretrained one beside it when they differ."""
    active = active_model()
    models = [active]
    if active.source != PRETRAINED and st.toggle(
        _("Compare with the pretrained model, side by side"), value=True, key="oneshot.both"
    ):
        models.append(pretrained_model())
    return models


def name_problem(name: str, gallery: dict) -> str:
    """What is wrong with a new symbol's name, in the reader's language ("" when nothing is)."""
    if not name:
        return _("Give the symbol a name first.")
    if len(name) > MAX_NAME or not name.isprintable():
        return _("A name is at most {count} printable characters.").format(count=MAX_NAME)
    if name in gallery or name == NONE:
        return _("'{name}' is taken: choose another name.").format(name=name)
    return ""


def enrol_ui(gallery: dict) -> None:
    """Step 1: one example of each new symbol, drawn or uploaded, named."""
    st.subheader(
        _("1 · Enrol {least} to {most} symbols, one example each").format(least=MIN_SYMBOLS, most=MAX_SYMBOLS)
    )
    if len(gallery) >= MAX_SYMBOLS:
        st.caption(
            _("The gallery is full ({count} symbols): remove one to enrol another.").format(count=MAX_SYMBOLS)
        )
        return
    left, right = st.columns([1, 2])
    with left:
        picture = picture_source("enrol", "oneshot.source", "oneshot.upload")
    with right:
        if st.session_state.pop("oneshot.enrolled", False):
            st.session_state["oneshot.name"] = ""  # before the box is drawn: ready for the next symbol
        name = st.text_input(
            _("Its name"),
            key="oneshot.name",
            max_chars=MAX_NAME,
            placeholder=_("a star, an arrow, your initials…"),
        ).strip()
        if st.button(_("Enrol this symbol"), type="primary", key="oneshot.enrol", icon=":material/add:"):
            problem = name_problem(name, gallery)
            if not problem and picture is None:
                problem = _("Draw the symbol (or upload a picture of it) first.")
            if not problem:
                try:
                    gallery[name] = to_mnist_steps(picture).digit
                except ImageProblem as exc:
                    problem = str(exc)
            if problem:
                st.warning(_("Not enrolled: {problem}").format(problem=problem))
            else:
                kept(QUIZ).clear()  # a new gallery is a new quiz
                st.session_state["oneshot.enrolled"] = True
                clear("enrol")
                st.rerun()


def _remove(name: str) -> None:
    kept(GALLERY).pop(name, None)
    kept(QUIZ).clear()


def gallery_ui(gallery: dict) -> None:
    """The gallery as the network sees it: each symbol's 28x28."""
    if not gallery:
        st.info(_("Nothing enrolled yet: draw (or upload) a shape, name it, press **Enrol this symbol**."))
        return
    for column, (name, image) in zip(st.columns(MAX_SYMBOLS), gallery.items(), strict=False):
        column.image(
            digit_image(image, 4),
            caption=name,
            alt=_(
                "Your symbol {name} after preprocessing, as the network sees it: 28x28 pixels, white on black."
            ).format(name=name),
        )
        column.button(_("Remove"), key=f"oneshot.remove.{name}", on_click=_remove, args=(name,))


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
                (_("{distance:.3f} · within") if w else _("{distance:.3f} · beyond")).format(distance=s)
                for s, w in zip(ranking.scores, within, strict=True)
            ],
            textposition="auto",
        )
    )
    figure.add_vline(
        x=ranking.threshold,
        line=dict(color="black", dash="dash"),
        annotation_text=_("threshold {threshold:.3f}").format(threshold=ranking.threshold),
    )
    figure.update_layout(
        height=80 + 40 * len(ranking.names),
        margin=dict(t=30, b=10, l=10, r=10),
        xaxis_title=_("distance (smaller: more alike)"),
        yaxis=dict(autorange="reversed"),
    )
    return figure


def recognise_ui(gallery: dict, models) -> None:
    """Step 2: a new drawing, ranked against the gallery by each model."""
    st.subheader(_("2 · Draw one of them again: which is it?"))
    left, right = st.columns([1, 2])
    with left:
        drawing = picture_source("query", "oneshot.source.query", "oneshot.upload.query")
    if drawing is None:
        right.info(_("Draw (or upload) a new example of one of your symbols."))
        return
    try:
        query = to_mnist_steps(drawing).digit
    except ImageProblem as exc:
        right.warning(str(exc))
        return
    with right:
        for column, asked in zip(st.columns(len(models)), models, strict=True):
            ranking = ask(
                ModelCall.RANK_GALLERY,
                model=asked.model,
                gallery=gallery,
                query=query,
                threshold=asked.threshold,
            )
            with column:
                st.markdown(f"**{asked.label}**")
                if ranking.verdict == NONE:
                    st.warning(
                        _(
                            "None of these: the nearest, *{nearest}*, is {distance:.3f} away, "
                            "not below the threshold {threshold:.3f}."
                        ).format(nearest=ranking.best, distance=ranking.scores[0], threshold=asked.threshold)
                    )
                    said = _("{model}: None of these: nearest {nearest}, distance {distance:.3f}.")
                else:
                    st.success(_("It is **{symbol}**").format(symbol=ranking.verdict))
                    said = _("{model}: It is {nearest}, distance {distance:.3f}.")
                announce(
                    f"oneshot.verdict.{asked.handle}",
                    said.format(model=asked.label, nearest=ranking.best, distance=ranking.scores[0]),
                    kind=f"{ranking.verdict} {ranking.best} {ranking.scores[0]:.4f}",
                )
                distances = ", ".join(
                    f"{n} {s:.3f}" for n, s in zip(ranking.names, ranking.scores, strict=True)
                )
                chart(
                    ranking_chart(ranking),
                    _("Distance to each symbol: {distances}; the threshold is {threshold:.3f}.").format(
                        distances=distances, threshold=asked.threshold
                    ),
                    key=f"oneshot.chart.{asked.handle}",
                )


def digits_baseline(asked: ActiveModel, n_way: int) -> tuple[float, str]:
    """The same n-way one-shot accuracy on MNIST test digits, once per model and n: on the
    digits it never trained on when it held some out, else on the test digits of its classes;
    with the sentence that says which digits, in the reader's language (built here, not kept)."""
    store = st.session_state.setdefault(BASELINES, {})
    key = (asked.handle, n_way)
    if key not in store:
        data = model_dataset(asked)
        held = tuple(data.held_out_classes)
        classes = held if len(held) >= n_way else None
        with st.spinner(_("Measuring one-shot accuracy on MNIST digits…")):
            accuracy = ask(
                ModelCall.ONE_SHOT,
                model=asked.model,
                data=model_dataset_ref(asked),
                n_way=n_way,
                trials=TRIALS,
                classes=classes,
            )
        store[key] = (accuracy, held, classes is not None)
    accuracy, held, on_held_out = store[key]
    if on_held_out:
        where = _(
            "{trials} trials on held-out digits {digits}, never trained on, with the same model and score"
        )
    elif held:
        where = ngettext(
            "{trials} trials on all MNIST test digits (only {count} of its classes was held out), "
            "with the same model and score",
            "{trials} trials on all MNIST test digits (only {count} of its classes were held out), "
            "with the same model and score",
            len(held),
        )
    else:
        where = _(
            "{trials} trials on MNIST test digits (of classes it trained on), with the same model and score"
        )
    return accuracy, where.format(trials=TRIALS, digits=list(held), count=len(held))


def quiz_ui(gallery: dict, models) -> None:
    """Step 3: "test me": draw each symbol several more times; the score is kept honestly."""
    st.subheader(_("3 · Test me"))
    names = tuple(gallery)
    quiz = kept(QUIZ)
    for asked in models:
        quiz.setdefault(asked.handle, QuizScore(names))  # a retrained model starts its own score
    done = max(len(quiz[asked.handle].truths) for asked in models)
    if done >= MAX_TESTS:
        st.caption(
            _("{count} drawings scored: that is the round. Remove or enrol a symbol to start again.").format(
                count=MAX_TESTS
            )
        )
    else:
        target = names[done % len(names)]
        left, right = st.columns([1, 2])
        with left:
            st.markdown(
                _("Draw **{symbol}** ({number} of up to {most})").format(
                    symbol=target, number=done + 1, most=MAX_TESTS
                )
            )
            drawing = picture_source("quiz", "oneshot.source.quiz", "oneshot.upload.quiz")
            if st.button(_("Check"), key="oneshot.check", type="primary"):
                query = None
                if drawing is None:
                    st.warning(
                        _("Draw {symbol} on the canvas (or upload a picture of it) first.").format(
                            symbol=target
                        )
                    )
                else:
                    try:
                        query = to_mnist_steps(drawing).digit
                    except ImageProblem as exc:
                        st.warning(str(exc))
                if query is not None:
                    for asked in models:
                        quiz[asked.handle].add(
                            target,
                            ask(
                                ModelCall.RANK_GALLERY,
                                model=asked.model,
                                gallery=gallery,
                                query=query,
                                threshold=asked.threshold,
                            ),
                        )
                    clear("quiz")
                    st.rerun()
        with right:
            st.caption(
                _(
                    "Each symbol in turn. The score counts a drawing as right when its nearest symbol is "
                    "the one drawn, as the MNIST score beside it does; how many were 'none of these' by "
                    "the threshold is in the score's help."
                )
            )
    for column, asked in zip(st.columns(len(models)), models, strict=True):
        score = quiz[asked.handle]
        with column:
            st.markdown(f"**{asked.label}**")
            baseline, where = digits_baseline(asked, len(names))
            figures = st.columns(2)
            figures[0].metric(
                _("{n}-way one-shot, your drawings").format(n=len(names)),
                "—" if score.accuracy is None else f"{100 * score.accuracy:.0f}%",
                help=ngettext(
                    "{count} drawing scored, {rejected} of them 'none of these' by the threshold; "
                    "chance is {chance:.0f}%",
                    "{count} drawings scored, {rejected} of them 'none of these' by the threshold; "
                    "chance is {chance:.0f}%",
                    len(score.truths),
                ).format(count=len(score.truths), rejected=score.rejected, chance=100 / len(names)),
            )
            figures[1].metric(
                _("{n}-way one-shot, MNIST").format(n=len(names)), f"{100 * baseline:.0f}%", help=where
            )
            if score.truths:
                import pandas as pd

                table = pd.DataFrame(
                    score.confusion(),
                    index=[_("drew {symbol}").format(symbol=n) for n in names],
                    columns=[_("nearest: {symbol}").format(symbol=n) for n in names],
                )
                st.dataframe(table, width="stretch")


st.title(_("Your own symbols"))
st.markdown(
    _(
        "A Siamese network compares things it was **never trained on**: one example of each is enough. "
        "Enrol a few shapes of your own (letters, arrows, a star, your initials), then draw them again and "
        "see whether a network trained only on digits can tell them apart."
    )
)
my_gallery = kept(GALLERY)
asked = models_ui()
enrol_ui(my_gallery)
gallery_ui(my_gallery)
if len(my_gallery) >= MIN_SYMBOLS:
    st.divider()
    recognise_ui(my_gallery, asked)
    st.divider()
    quiz_ui(my_gallery, asked)
elif my_gallery:
    st.caption(
        ngettext(
            "Enrol at least {count} symbol to start recognising.",
            "Enrol at least {count} symbols to start recognising.",
            MIN_SYMBOLS,
        ).format(count=MIN_SYMBOLS)
    )
