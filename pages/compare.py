"""Compare: draw, upload or pick two digits, see what the network sees, and its verdict."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from siamese_core.i18n import N_, _, ngettext, shown_as
from siamese_core.network.preprocessing import MAX_UPLOAD_BYTES, ImageProblem, to_mnist, to_mnist_steps
from siamese_core.results import Verdict
from siamese_core.tasks import ModelCall
from siamese_ui.announce import announce
from siamese_ui.canvas import canvas_ui
from siamese_ui.charts import chart
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.pictures import digit_image
from siamese_ui.service import ask
from siamese_ui.session import active_model, model_banner, model_cache, model_dataset

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

st.title(_("Compare two digits"))
st.markdown(
    _(
        "Draw a digit on each canvas, upload a picture, hold a digit written on paper up to the camera, or "
        "pick a test digit. Each input is turned into a 28x28 MNIST-style image (the paper's uneven light "
        "removed, the ink separated from it, cropped, fitted in 20x20, centred by its centre of mass): "
        "**that** is what the network sees."
    )
)
active = active_model()
model_banner(active)
data = model_dataset(active)
names = data.class_names

SIDES = ("a", "b")
MODE = "compare.mode."
PICK = "compare.pick."  # test index picked for a side
CANVAS = "compare.canvas."  # + side: the canvas's keys (siamese_ui/canvas.py)
KEPT_PICTURE = "compare.picture."  # + side + "." + mode: the last picture uploaded or taken
MODES = {  # the input radio's values (kept in the session and the tests) and what it shows
    "Draw": N_("Draw"),
    "Upload": N_("Upload"),
    "Camera": N_("Camera"),
    "Test digit": N_("Test digit"),
}
BLANK_CANVAS = N_("Draw a digit on the canvas with the mouse or a finger.")
PICKERS = (  # the Test digit buttons: label, icon, key, relation to the other side, help
    (N_("Random"), ":material/casino:", "rand", None, N_("a random test digit")),
    (N_("Same class"), None, "same", "same", N_("a random test digit of the other side's class")),
    (N_("Other class"), None, "diff", "different", N_("a random test digit of another class")),
)
NO_PICTURE = {
    "Upload": N_("Upload a picture of a digit."),
    "Camera": N_("Take a picture of a digit written on paper."),
}
METRICS = {"euclidean": N_("euclidean"), "cosine": N_("cosine")}  # embedding_metric()'s answers


@dataclass(frozen=True)
class KeptPicture:
    """An uploaded file or a photo, kept in the session: Streamlit's uploader and camera forget
    theirs when the student goes to another page, the student does not."""

    name: str
    data: bytes


def steps_ui(steps) -> None:
    """What the preprocessing did to a picture: the picture, the ink it found, the 28x28."""
    picture, ink, digit = st.columns([3, 3, 2])
    picture.image(
        steps.picture,
        caption=_("your picture (grey, ink light)"),
        width="stretch",
        alt=_("Your picture in grey, with the ink turned light."),
    )
    ink.image(
        (steps.ink * 255).astype(np.uint8),
        caption=_("the ink found"),
        width="stretch",
        alt=_("The ink found in your picture, white on black."),
    )
    digit.image(
        digit_image(steps.digit, 4),
        caption=_("what the network sees (28x28)"),
        width="stretch",
        alt=_("Your picture after preprocessing: the 28x28 digit the network sees."),
    )


def pick_random(side: str, relation: str | None = None, switch_mode: bool = True) -> None:
    """Pick a random test digit for ``side``; relation 'same'/'different' to the other side."""
    rng = np.random.default_rng()
    other = PICK + ("b" if side == "a" else "a")
    y = data.test.y
    if relation and st.session_state.get(other) is not None:
        cls = y[st.session_state[other]]
        pool = np.flatnonzero(y == cls) if relation == "same" else np.flatnonzero(y != cls)
        pool = pool[pool != st.session_state[other]]
    else:
        pool = np.arange(len(y))
    st.session_state[PICK + side] = int(rng.choice(pool))
    if switch_mode:  # only from a button callback, before the radio is drawn
        st.session_state[MODE + side] = "Test digit"


def picture_ui(side: str, mode: str) -> KeptPicture | None:
    """The side's uploader or camera, and the picture it holds, or the one it held before the
    student went to another page (the widget comes back empty; the picture does not)."""
    key, kept_key = f"compare.{mode.lower()}.{side}", f"{KEPT_PICTURE}{side}.{mode}"
    fresh = key not in st.session_state  # the widget appears anew: back from another page or mode
    if mode == "Upload":
        picture = st.file_uploader(
            _("Image of one digit (at most {megabytes} MB)").format(megabytes=MAX_UPLOAD_BYTES // 2**20),
            type=["png", "jpg", "jpeg", "bmp", "gif"],
            key=key,
            max_upload_size=MAX_UPLOAD_BYTES // 2**20,
            help=_("A scan, a screenshot, or a phone photo of a digit written on paper."),
        )
    else:
        picture = st.camera_input(
            _("Hold a digit written on paper up to the camera"),
            key=key,
            help=_("Dark ink on plain paper, the digit filling a good part of the frame."),
        )
    if picture is not None:
        st.session_state[kept_key] = KeptPicture(picture.name, picture.getvalue())
    elif not fresh:  # the student removed it here
        st.session_state.pop(kept_key, None)
    kept = st.session_state.get(kept_key)
    if picture is None and kept is not None:
        st.caption(
            _(
                "Still using **{name}**, as before you left this page. Upload another picture to replace it."
            ).format(name=kept.name)
            if mode == "Upload"
            else _("Still using your photo from before you left this page. Take another to replace it.")
        )
    return kept


def side_input(side: str) -> tuple[np.ndarray | None, str]:
    """One side's input as a 28x28 digit, or None with the message to show (in the reader's language)."""
    mode = st.radio(
        _("Input"),
        list(MODES),
        # the session's language bound now: AppTest calls format_func outside the script run
        format_func=shown_as(MODES),
        key=MODE + side,
        horizontal=True,
        label_visibility="collapsed",
        persist_state="session",  # back from another page, the same input
    )
    if mode == "Draw":
        image = canvas_ui(CANVAS + side, stroke_width=18, clear_key=f"compare.clear.{side}")
        if image is None:
            return None, _(BLANK_CANVAS)
        try:
            return to_mnist(image), ""
        except ImageProblem as exc:
            return None, str(exc)
    if mode in ("Upload", "Camera"):
        picture = picture_ui(side, mode)
        if picture is None:
            return None, _(NO_PICTURE[mode])
        try:
            steps = to_mnist_steps(picture.data)
        except ImageProblem as exc:
            if mode == "Upload":
                return None, _("{name}: {problem}").format(name=picture.name, problem=exc)
            return None, str(exc)
        steps_ui(steps)
        return steps.digit, ""
    for column, (label, icon, key, relation, hint) in zip(st.columns(3), PICKERS, strict=True):
        column.button(
            _(label),
            icon=icon,
            key=f"compare.{key}.{side}",
            on_click=pick_random,
            args=(side, relation),
            width="stretch",
            help=_(hint),
        )
    if st.session_state.get(PICK + side) is None:
        pick_random(side, switch_mode=False)
    index = st.session_state[PICK + side]
    st.caption(
        _("Test digit #{index}: a **{digit}**").format(index=index, digit=_(names[data.test.y[index]]))
    )
    return data.test.x[index], ""


def input_alt(side: str) -> str:
    """Alt text for one side's 28x28 digit, from what is known about it."""
    mode = st.session_state[MODE + side]
    if mode == "Test digit":
        index = st.session_state[PICK + side]
        return _("Digit {digit} from the test set (number {index}), 28x28 pixels.").format(
            digit=_(names[data.test.y[index]]), index=index
        )
    if mode == "Draw":
        return _("Your drawing for input {side} after preprocessing, 28x28 pixels.").format(side=side.upper())
    return _("Your picture for input {side} after preprocessing, 28x28 pixels.").format(side=side.upper())


def inputs_ui() -> dict:
    """Both sides' inputs, each shown as the network sees it; None where a side has none."""
    digits = {}
    for side, column in zip(SIDES, st.columns(2), strict=True):
        with column:
            st.subheader(_("Digit {side}").format(side=side.upper()))
            digit, message = side_input(side)
            if digit is None and message in (_(BLANK_CANVAS), *map(_, NO_PICTURE.values())):
                st.info(message)
            elif digit is None:
                st.warning(message)
            elif st.session_state[MODE + side] not in NO_PICTURE:  # pictures showed their steps
                st.image(
                    digit_image(digit, 4),
                    caption=_("what the network sees (28x28)"),
                    width=112,
                    alt=input_alt(side),
                )
            digits[side] = digit
    return digits


def verdict_ui(digits: dict) -> Verdict:
    """The verdict, the distance against the threshold, and a gauge."""
    started = time.perf_counter()
    verdict = ask(
        ModelCall.COMPARE, model=active.model, a=digits["a"], b=digits["b"], threshold=active.threshold
    )
    latency_ms = (time.perf_counter() - started) * 1000
    is_probability = verdict.match_probability is not None
    left, right = st.columns([1, 1])
    with left:
        if verdict.same:
            st.success(_("### Same digit"), icon=":material/check_circle:")
            said = _("Same digit: distance {distance:.3f}, threshold {threshold:.3f}.")
        else:
            st.error(_("### Different digits"), icon=":material/cancel:")
            said = _("Different digits: distance {distance:.3f}, threshold {threshold:.3f}.")
        announce(
            "compare.verdict",
            said.format(distance=verdict.distance, threshold=verdict.threshold),
            kind=f"{'same' if verdict.same else 'different'} {verdict.distance:.4f}",  # a new verdict: news at once
        )
        if is_probability:
            st.metric(_("Match probability"), f"{verdict.match_probability:.3f}")
        st.metric(_("1 − match probability") if is_probability else _("Distance"), f"{verdict.distance:.4f}")
        calibrated = active.config is None or active.config.calibrate_threshold
        st.metric(
            _("Threshold"),
            f"{verdict.threshold:.4f}",
            help=_("calibrated on validation pairs")
            if calibrated
            else _("fixed at 0.5, as in the Keras example"),
        )
        st.caption(
            _("Same when the distance is below the threshold · model time {milliseconds:.0f} ms").format(
                milliseconds=latency_ms
            )
        )
    with right:
        below = verdict.distance < verdict.threshold
        summary = (
            _("The gauge: distance {distance:.3f}, below the threshold {threshold:.3f}, so the same digit.")
            if below
            else _(
                "The gauge: distance {distance:.3f}, not below the threshold {threshold:.3f}, so different digits."
            )
        )
        chart(
            gauge_figure(verdict),
            summary.format(distance=verdict.distance, threshold=verdict.threshold),
            key="compare.gauge",
        )
    return verdict


def gauge_figure(verdict: Verdict) -> go.Figure:
    top = max(2 * verdict.threshold, verdict.distance * 1.1, 1e-3)
    gauge = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=verdict.distance,
            number={"valueformat": ".3f"},
            title={"text": _("distance (left of the line: same)")},
            gauge={
                "axis": {"range": [0, top]},
                "bar": {"color": "#333"},
                "steps": [
                    {"range": [0, verdict.threshold], "color": "#c8e6c9"},
                    {"range": [verdict.threshold, top], "color": "#ffcdd2"},
                ],
                "threshold": {"line": {"color": "black", "width": 4}, "value": verdict.threshold},
            },
        )
    )
    gauge.update_layout(height=260, margin=dict(t=40, b=10))
    return gauge


def neighbours_ui(digits: dict, verdict: Verdict) -> None:
    """The nearest training digits of each input, by the model's own distance."""
    from siamese_core.network.compare import nearest

    cache = model_cache(active)
    if "train_emb" not in cache:
        sample = np.random.default_rng(0).permutation(len(data.train.y))[:3000]
        with st.spinner(
            _("Embedding {count:,} training digits for the neighbour search…").format(count=3000)
        ):
            cache["train_emb"] = (sample, ask(ModelCall.EMBED, model=active.model, x=data.train.x[sample]))
    sample, train_embeddings = cache["train_emb"]
    metric = active.model.facts.metric
    st.subheader(_("Nearest training digits"))
    st.caption(
        (
            _(
                "By the model's own {metric} distance between embeddings (the matchnet head scores pairs with "
                "its own layers; its embeddings are compared by Euclidean distance)."
            )
            if verdict.match_probability is not None
            else _(
                "By the model's own {metric} distance between embeddings, the same scale as the verdict's threshold."
            )
        ).format(metric=_(METRICS.get(metric, metric)))
    )
    queries = ask(ModelCall.EMBED, model=active.model, x=np.stack([digits["a"], digits["b"]]))
    for k, side in enumerate(SIDES):
        idx, dist = nearest(train_embeddings, queries[k], 6, metric=metric)
        row = st.columns(7)
        row[0].image(
            digit_image(digits[side], 3),
            caption=_("input {side}").format(side=side.upper()),
            alt=input_alt(side),
        )
        for column, i, d in zip(row[1:], idx, dist, strict=True):
            label = _(names[data.train.y[sample[i]]])
            column.image(
                digit_image(data.train.x[sample[i]], 3),
                caption=f"{label} · d={d:.3f}",
                alt=_(
                    "Digit {digit} from the training set, at distance {distance:.3f} from input {side}."
                ).format(digit=label, distance=d, side=side.upper()),
            )


TWINS = "compare.twins"  # the "Inside the twins" switch
TWINS_CACHE = "compare.twins_cache"  # (model handle, side, digit) -> activations, the last few only
MAPS_SHOWN = 8  # feature maps shown per convolution: enough to see the pattern, cheap to draw


def activations(side: int, digit: np.ndarray):
    """One branch's activations for one digit, kept for the last few (model, side, digit): the
    page reruns on every canvas stroke, the twins' view need not recompute."""
    cache = st.session_state.setdefault(TWINS_CACHE, {})
    if any(handle != active.handle for handle, *_rest in cache):  # another model: its maps are not this one's
        cache.clear()
    key = (active.handle, side, digit.tobytes())
    if key not in cache:
        while len(cache) >= 6:
            cache.pop(next(iter(cache)))
        cache[key] = ask(ModelCall.ACTIVATIONS, model=active.model, image=digit, side=side)
    return cache[key]


def shade(values: np.ndarray, top: float) -> np.ndarray:
    """Activations as an RGB picture, white (0) to dark green (``top``), ``top`` shared by the
    pictures being compared so equal numbers look equal."""
    v = np.clip(np.nan_to_num(values) / (top or 1.0), 0.0, 1.0)[..., None]
    white, green = np.array([255, 255, 255]), np.array([27, 94, 32])
    return (white + v * (green - white)).astype(np.uint8)


def activation_picture(values: np.ndarray, top: float) -> np.ndarray:
    """Feature maps as a 2 x 4 grid of the first channels; a vector as a strip of cells."""
    if values.ndim == 3:
        size = max(4, 48 // values.shape[0])  # each map about 48 px
        maps = [
            np.kron(values[..., c], np.ones((size, size))) for c in range(min(MAPS_SHOWN, values.shape[-1]))
        ]
        blank = np.full_like(maps[0], np.nan)  # NaN shades white: the gaps and missing maps
        maps += [blank] * (MAPS_SHOWN - len(maps))
        gap = np.full((maps[0].shape[0], 3), np.nan)
        rows = [np.hstack([part for m in maps[r : r + 4] for part in (m, gap)][:-1]) for r in (0, 4)]
        return shade(np.vstack([rows[0], np.full((3, rows[0].shape[1]), np.nan), rows[1]]), top)
    cell = max(2, 384 // len(values))
    return shade(np.kron(values[None, :], np.ones((14, cell))), top)


def twins_pair_ui(left, right, left_caption: str, right_caption: str) -> None:
    """Two branches' activations, layer by layer, side by side on one shared scale per layer."""
    for a, b in zip(left, right, strict=True):
        top = float(max(np.nanmax(np.abs(a.values)), np.nanmax(np.abs(b.values)), 1e-9))
        if a.is_map:
            count = a.values.shape[-1]
            what = ngettext(
                "{layer}: {count} feature map (first {shown})",
                "{layer}: {count} feature maps (first {shown})",
                count,
            ).format(layer=a.layer, count=count, shown=MAPS_SHOWN)
        else:
            count = len(a.values)
            what = ngettext("{layer}: {count} number", "{layer}: {count} numbers", count).format(
                layer=a.layer, count=count
            )
        alt = _("Activations of {layer} for {picture}: darker green is larger.")
        first, second = st.columns(2)
        first.image(
            activation_picture(a.values, top),
            caption=f"{left_caption} · {what}",
            alt=alt.format(layer=a.layer, picture=left_caption),
        )
        second.image(
            activation_picture(b.values, top),
            caption=f"{right_caption} · {what}",
            alt=alt.format(layer=b.layer, picture=right_caption),
        )


def twins_ui(digits: dict) -> None:
    """Inside the twins: what the branch computes for A and for B, and the same digit through both branches."""
    st.subheader(_("Inside the twins"))
    if not st.toggle(
        _("Show what each branch computes"),
        key=TWINS,
        persist_state="session",  # back from another page, still open
        help=_(
            "Every convolution's feature maps (a CNN) or every dense layer's numbers (an MLP), the embedding last."
        ),
    ):
        return
    shared = active.model.facts.branches == 1
    st.markdown(
        _(
            "**One branch, called twice:** the same weights turn digit A and digit B into their embeddings; "
            "only the inputs differ."
        )
        if shared
        else _(
            "**Two branches** (`branch_a`, `branch_b`), each with its own weights: digit A goes through one, "
            "digit B through the other."
        )
    )
    st.caption(
        _(
            "Darker green: a larger activation. Each row uses one scale for both pictures, so equal numbers "
            "look equal."
        )
    )
    twins_pair_ui(
        activations(0, digits["a"]), activations(1, digits["b"]), _("A, branch A"), _("B, branch B")
    )
    st.markdown(_("**The same digit (A's) through branch A and through branch B**"))
    through_a, through_b = activations(0, digits["a"]), activations(1, digits["a"])
    gap = float(np.max(np.abs(through_a[-1].values - through_b[-1].values)))
    if gap == 0.0:
        st.success(
            (
                _(
                    "Identical, number for number: the largest difference between the two embeddings is "
                    "**{gap:g}** (one branch object: the same weights)."
                )
                if shared
                else _(
                    "Identical, number for number: the largest difference between the two embeddings is **{gap:g}**."
                )
            ).format(gap=gap),
            icon=":material/join_inner:",
        )
    else:
        st.warning(
            _(
                "Different: the two embeddings of the same digit differ by up to **{gap:.4g}** in one number. "
                "With two branches the network does not even agree with itself: d(A, B) ≠ d(B, A)."
            ).format(gap=gap),
            icon=":material/call_split:",
        )
    twins_pair_ui(through_a, through_b, _("A's digit, branch A"), _("A's digit, branch B"))


digits = inputs_ui()
st.divider()
if digits["a"] is None or digits["b"] is None:
    st.info(_("Give both sides a digit to get a verdict."))
else:
    verdict = verdict_ui(digits)
    twins_ui(digits)
    neighbours_ui(digits, verdict)
