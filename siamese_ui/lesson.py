"""The guided lesson: one table of steps through the pages in a teaching order, and the short box
(predict, try, notice; Back and Next) each page draws at its top while the lesson is on.

Per-session state only (the step number and the sidebar toggle), and nothing heavy: a step's
"notice" that cites a number reads it from what the page itself computes or has already computed
(the session's finished run, the lab's shared parameter counts), never from text typed here.

Off by default: the links the app already hands around (a Train preset, a Weight-sharing setup)
open exactly what they show, and the class starts the lesson when the teacher says so, from
Home's button or from a link carrying ``?lesson=on`` (``?lesson=off`` keeps it off). While it is
on, the address says at which step (``?lesson=4``), so a reload or a copied link finds the
lesson on, at the same step, like every other link of the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from siamese_core.i18n import N_, _, ngettext

from .live_panel import focus_container_script
from .navigation import PAGES, switch_to

ON = "lesson.on"  # whether the lesson is on: a plain session value, kept across pages
SWITCH = "lesson.switch"  # the sidebar toggle's key; it shows ON and sets it
STEP = "lesson.step"  # index into STEPS
FOCUS = "lesson.focus"  # set by Start, Back and Next: the next box drawn takes the keyboard focus
LINK = "lesson"  # the link's query parameter: ?lesson=on, ?lesson=off, or the step shown (?lesson=4)
LINK_READ = "lesson.link_read"  # the link's value already applied in this session

PAGE_FILES = {page.key: page.file for page in PAGES}  # the one page table (navigation.py)
# As the sidebar names them, in English: shown through _().
PAGE_NAMES = {page.key: page.title for page in PAGES}


# ---- what a "notice" line reads ------------------------------------------------------------------
def _compare_notice() -> str:
    from .session import active_model

    return _(
        "the verdict is only a distance set against a threshold: below **{threshold:.3f}** (this "
        "model's threshold) it says *same*. Which pair came closest to it?"
    ).format(threshold=active_model().threshold)


def _sharing_notice() -> str:
    from siamese_core.config import SiameseConfig

    from .shared import DEFAULT_LAB, lab_numbers

    shared = lab_numbers(SiameseConfig(shared=True, **DEFAULT_LAB)).count_params
    unshared = lab_numbers(SiameseConfig(shared=False, **DEFAULT_LAB)).count_params
    return _(
        "for the lab's default MLP, two branches cost **{unshared:,}** parameters against **{shared:,}** "
        "for one (×{ratio:.1f}), and the same digit no longer gets the same embedding from both sides."
    ).format(unshared=unshared, shared=shared, ratio=unshared / shared)


def _finished_run():
    """The session's finished training's result, or None (read, never computed here)."""
    from .session import TRAIN_JOB

    job = st.session_state.get(TRAIN_JOB)
    return job.snapshot().result if job is not None else None


def _train_after_notice() -> str:
    result = _finished_run()
    if result is None:
        return _("once your run has finished, its test pair accuracy appears here: was your guess close?")
    return _(
        "your run: **{accuracy:.2f}%** of {pairs:,} test pairs right at threshold {threshold:.3f}, after "
        "{seconds:.0f} s of training. Was your guess close? The network never saw a digit's name."
    ).format(
        accuracy=100 * result.test_pair_accuracy,
        pairs=result.test_pairs,
        threshold=result.threshold,
        seconds=result.train_seconds,
    )


@dataclass(frozen=True)
class Step:
    page: str  # a key of PAGE_FILES
    # The texts in English, marked with N_() and shown through _() (a computed notice translates itself)
    title: str
    predict: str
    try_: str
    notice: str | Callable[[], str]
    # Other pages the Try sends the student to: there the box stays on this step, instead of
    # jumping back to that page's own earlier step (step 4's race is on the Weight-sharing lab).
    also_on: tuple[str, ...] = ()

    def notice_text(self) -> str:
        """The notice in the session's language (a computed one is built here, at display time)."""
        return self.notice() if callable(self.notice) else _(self.notice)


STEPS: tuple[Step, ...] = (
    Step(
        "compare",
        N_("Is it the same digit?"),
        N_("will the network call two different people's 7s the same digit? And a 1 against a 7?"),
        N_(
            "under both digits pick **Test digit**, then **Same class** and **Other class**; then draw your own."
        ),
        _compare_notice,
    ),
    Step(
        "weight_sharing",
        N_("One branch or two?"),
        N_("if each input gets its own branch, how many more parameters does the network need?"),
        N_("switch **Share weights between the branches** off and on; then move **Number of inputs N**."),
        _sharing_notice,
    ),
    Step(
        "train",
        N_("Train on pairs"),
        N_("the network only ever hears *same* or *different*: what test pair accuracy will it reach?"),
        N_("keep the **classroom** preset and press **Start**; open *What the margin does* while it runs."),
        N_("does the loss keep falling after the accuracy stops climbing? What is left for it to learn?"),
    ),
    Step(
        "train",
        N_("Read the result"),
        N_("would two independent branches (no sharing) do better or worse on the same budget?"),
        N_(
            "on the **Weight-sharing lab**, press **Race shared against unshared**; or change the margin and "
            "train again."
        ),
        _train_after_notice,
        also_on=("weight_sharing",),
    ),
    Step(
        "embeddings",
        N_("Where the digits land"),
        N_("which two digits will end up closest together in the embedding?"),
        N_("hover over the points where two colours meet; move the **Epoch** slider back to 0."),
        N_("at epoch 0 the untrained branch already groups some digits: which, and why?"),
    ),
    Step(
        "evaluate",
        N_("Choose a threshold"),
        N_(
            "if you raise the threshold, which mistake grows: *same* pairs missed or *different* pairs let in?"
        ),
        N_("move the **Threshold** slider across the two histograms and watch the metrics."),
        N_("where the two histograms overlap, every threshold makes some mistake: look at the hardest ones."),
    ),
    Step(
        "lessons",
        N_("Beyond digits"),
        N_("can the same idea rank photos by quality instead of telling digits apart?"),
        N_("open **Learning to rank (RankIQA)** and train it; then **Transfer learning**."),
        N_("the margin there is on another scale than the digits' margin: why?"),
    ),
    Step(
        "board",
        N_("The class's result"),
        N_("across the whole room, will the shared networks beat the unshared ones? By how much?"),
        N_("type your teacher's class code, join with a nickname, and **Post** your finished runs."),
        N_(
            "on the board each colour is one kind of network: read the medians of both, and their parameters."
        ),
    ),
)


def first_step_on(page: str) -> int | None:
    return next((k for k, step in enumerate(STEPS) if step.page == page), None)


def _go(k: int, here: str) -> None:
    """Move to step k: its page, or a rerun when it is on this page."""
    st.session_state[STEP] = k
    st.session_state[FOCUS] = True
    if STEPS[k].page == here:
        st.rerun()
    switch_to(STEPS[k].page)


def _start() -> None:
    st.session_state[ON] = True
    st.session_state[STEP] = 0
    st.session_state[FOCUS] = True


def _finish() -> None:
    st.session_state[ON] = False
    st.query_params.pop(LINK, None)  # a reload after the end finds the lesson off


def _read_link() -> None:
    """A link's ?lesson=on/off/<step>, applied once per value in a session (a later click on the
    switch wins): a reload or a copied address opens the lesson where it was."""
    wanted = st.query_params.get(LINK)
    if wanted is None or st.session_state.get(LINK_READ) == wanted:
        return
    steps = [str(k + 1) for k in range(len(STEPS))]
    if wanted in ("on", "off", *steps):
        st.session_state[LINK_READ] = wanted
        st.session_state[ON] = wanted != "off"
        if wanted in steps:
            st.session_state[STEP] = steps.index(wanted)


def _write_link(k: int) -> None:
    """The step shown, in the address (an unbound parameter: it travels with switch_to and the
    sidebar's links, and the page being opened rewrites it)."""
    if st.query_params.get(LINK) != str(k + 1):
        st.query_params[LINK] = str(k + 1)
    st.session_state[LINK_READ] = str(k + 1)  # our own word: not a link to apply again


def _switched() -> None:
    st.session_state[ON] = st.session_state[SWITCH]
    # The address no longer says what the switch shows: drop it, so a reload keeps the switch.
    st.query_params.pop(LINK, None)


def lesson_toggle() -> bool:
    """The sidebar switch, on every page. Not ``bind="query-params"``: every page draws it, so
    its binding would belong to the page that drew it, and Streamlit drops a page's bound
    parameters when the student leaves that page; the address holds the step instead
    (_write_link). And not the widget's own state across pages: after a page switch in AppTest
    its first run read the default, so a plain session value (ON) holds the answer and the
    switch mirrors it."""
    _read_link()
    st.session_state[SWITCH] = st.session_state.setdefault(ON, False)
    st.sidebar.toggle(
        _("Guided lesson"),
        key=SWITCH,
        on_change=_switched,
        help=_("A short box at the top of each page: what to predict, what to try, what to notice."),
    )
    return st.session_state[ON]


def current_step() -> int:
    return min(max(int(st.session_state.get(STEP, 0)), 0), len(STEPS) - 1)


def lesson_box(page: str) -> None:
    """The lesson's box for this page (a key of PAGE_FILES), when the lesson is on."""
    if not lesson_toggle():
        return
    k = current_step()
    if STEPS[k].page != page and page not in STEPS[k].also_on:
        first = first_step_on(page)
        if first is None:  # a page outside the lesson: the way back to it
            _write_link(k)
            _pointer(k, page)
            return
        k = first  # the student came here by the sidebar: the lesson follows
    st.session_state[STEP] = k
    _write_link(k)
    step, n = STEPS[k], len(STEPS)
    with st.container(border=True, key="lesson-box"):
        st.markdown(
            _("**Guided lesson · step {step} of {steps} · {title}**").format(
                step=k + 1, steps=n, title=_(step.title)
            )
        )
        st.markdown(":material/psychology_alt: " + _("**Predict:** {text}").format(text=_(step.predict)))
        st.markdown(":material/touch_app: " + _("**Try:** {text}").format(text=_(step.try_)))
        st.markdown(":material/visibility: " + _("**Notice:** {text}").format(text=step.notice_text()))
        back, forward, __ = st.columns([1, 1, 4])
        if k > 0 and back.button(_("Back"), key="lesson.back", icon=":material/arrow_back:", width="stretch"):
            _go(k - 1, page)
        if k < n - 1:
            if forward.button(
                _("Next"), key="lesson.next", type="primary", icon=":material/arrow_forward:", width="stretch"
            ):
                _go(k + 1, page)
        else:
            forward.button(
                _("Finish"),
                key="lesson.finish",
                type="primary",
                on_click=_finish,
                width="stretch",
                help=_("The end of the lesson: switches the box off (the sidebar switch turns it back on)."),
            )
        # The button that moved the lesson is gone with the old page: the keyboard goes on from the
        # box. The slot is drawn on every run, empty when there is nothing to do: an element that
        # came and went made Streamlit redraw the page's widgets under it, and the focus fell off a
        # radio group the student was moving through with the arrow keys.
        wanted = st.session_state.pop(FOCUS, False)
        st.html(
            focus_container_script("lesson-box") if wanted else "<script></script>",
            unsafe_allow_javascript=True,
            width=1,
        )


def _pointer(k: int, page: str) -> None:
    step = STEPS[k]
    with st.container(border=True, key="lesson-pointer"):
        left, right = st.columns([4, 1])
        left.markdown(
            _("**Guided lesson · step {step} of {steps}** ({title}) is on **{page}**.").format(
                step=k + 1, steps=len(STEPS), title=_(step.title), page=_(PAGE_NAMES[step.page])
            )
        )
        if right.button(
            _("Back to the lesson"), key="lesson.resume", icon=":material/school:", width="stretch"
        ):
            _go(k, page)


def start_button() -> None:
    """Home's entry: starts the lesson at its first step."""
    if st.button(
        _("Start the guided lesson"),
        key="lesson.start",
        type="primary",
        icon=":material/school:",
        on_click=_start,
        help=ngettext(
            "{steps} short step through the pages, starting on {page}.",
            "{steps} short steps through the pages, starting on {page}.",
            len(STEPS),
        ).format(steps=len(STEPS), page=_(PAGE_NAMES[STEPS[0].page])),
    ):
        switch_to(STEPS[0].page)
