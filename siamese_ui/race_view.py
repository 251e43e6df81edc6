"""The Weight-sharing lab's race: one click trains the lab's setup shared and unshared
(siamese_core/lessons/race.py, one worker task, the student's one training), both curves live on one
chart, then the two networks side by side. The finished race stays in the session, and its two
runs can be posted to the class board."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from siamese_core.config import PRESETS, SPLIT_SEED, SiameseConfig
from siamese_core.i18n import N_, _, current_language
from siamese_core.jobs import Status, TaskSnapshot
from siamese_core.lessons.race import CurvePoint, RaceProgress, RaceResult, curve
from siamese_core.network.data import dataset_title
from siamese_core.tasks import Task

from .formatting import column_config, significant
from .live_panel import charts_html, panel_html, progress_html
from .palette import SHARING
from .resources import resolve
from .run_control import MESSAGES, REFRESH_SECONDS, start_task, task_of, task_status_ui
from .svg_chart import Series, svg_chart

NAME = "race"  # the task's name: its session keys are tasks.TASKS + NAME and tasks.MESSAGES + NAME
RESULT = "ws.race_result"  # the last finished RaceResult, kept across pages
BUDGET = PRESETS["classroom"]  # what each side trains: the classroom preset's data, loss and budget


def race_config(lab: SiameseConfig) -> SiameseConfig:
    """The lab's network (branch, head, embedding size) on the classroom preset's budget."""
    return BUDGET.replace(branch=lab.branch, head=lab.head, embedding_dim=lab.embedding_dim, shared=True)


def finished_race() -> RaceResult | None:
    """The session's last finished race (what the class board may post)."""
    _adopt()
    return st.session_state.get(RESULT)


def _adopt() -> None:
    task = task_of(NAME, None)  # found again after a reload or in a second tab
    if task is not None:
        snapshot = task.snapshot()
        if snapshot.status == Status.FINISHED and isinstance(snapshot.result, RaceResult):
            st.session_state[RESULT] = snapshot.result


def race_ui(lab: SiameseConfig) -> None:
    from siamese_core.serving.protocol import DatasetRef

    config = race_config(lab)
    name = resolve(config.dataset)  # the data set's key, for the worker
    title = dataset_title(name)  # its name for people
    st.subheader(_("Race them: shared against unshared"))
    st.markdown(
        _(
            "One click trains **this lab's network** ({branch} branch, {head} head, embedding {dim}) "
            "**twice**, with and without weight sharing, on the same data (**{data}**), the same pairs "
            "({pairs:,} fresh pairs per epoch, {epochs} epochs, batches of {batch}), the same seed and the "
            "classroom preset's loss and optimiser. They take turns a few batches at a time, so both curves "
            "grow together; each side's time counts only its own turns."
        ).format(
            branch=config.branch,
            head=_(config.head),  # "distance" in the reader's words, as the lab's Head box shows it
            dim=config.embedding_dim,
            data=title,
            pairs=config.pairs_per_epoch,
            epochs=config.epochs,
            batch=config.batch_size,
        )
    )
    task = task_of(NAME, None)
    going = task is not None and task.snapshot().status.active
    kwargs = {
        "config": config,
        "data": DatasetRef(name, SPLIT_SEED, config.held_out_classes, config.val_size),
    }
    st.button(
        _("Race shared against unshared"),
        key="ws.race.start",
        type="primary",
        icon=":material/sports_score:",
        disabled=going,
        help=_("Counts as your one training: it waits in the same line as the Train page's."),
        on_click=start_task,
        args=(NAME, Task.RACE, kwargs, None, _("the race on the Weight-sharing lab")),
    )
    if message := st.session_state.pop(MESSAGES + NAME, None):
        st.warning(message, icon=":material/hourglass_top:")
    st.fragment(_live, run_every=REFRESH_SECONDS if going else None)(going)
    if (result := finished_race()) is not None:
        result_ui(result)


def _live(polling: bool) -> None:
    task_status_ui(task_of(NAME, None), polling, stop_key="ws.race.stop", what=_("The race"), running=_curves)


def _curves(snapshot: TaskSnapshot) -> None:
    """The race while it runs: its progress, and both sides' curves so far."""
    colour = st.get_option("theme.primaryColor") or "#2e7d32"
    starting = _("starting")  # until the first report; then the task's message, in the reader's language
    parts = [
        progress_html(snapshot.progress, f"{snapshot.message or starting} · {snapshot.elapsed:.0f} s", colour)
    ]
    if isinstance(snapshot.state, RaceProgress):
        parts.append(charts_html(race_charts(snapshot.state.curves())))
    st.markdown(panel_html(*parts), unsafe_allow_html=True)


SIDES = {"shared": N_("shared"), "unshared": N_("unshared")}  # the two sides as the page names them
SERIES = {  # each side's line on the two live charts
    "shared": (N_("shared: training loss"), N_("shared: training pair accuracy")),
    "unshared": (N_("unshared: training loss"), N_("unshared: training pair accuracy")),
}


def race_charts(curves: dict[str, Sequence[CurvePoint]]) -> list[str]:
    """Loss and pair accuracy of both sides (``{"shared": curve, "unshared": curve}``, each
    :func:`siamese_core.lessons.race.curve`) on one chart each, against the batch."""
    loss, accuracy = [], []
    for side in ("shared", "unshared"):
        rows = curves.get(side, [])
        x = [r.step for r in rows]
        look = SHARING[side]
        style = dict(color=look.colour, dash=look.dasharray, marker=look.symbol, end_label=_(SIDES[side]))
        loss_name, accuracy_name = SERIES[side]
        loss.append(Series(_(loss_name), x, [r.loss for r in rows], **style))
        accuracy.append(Series(_(accuracy_name), x, [r.pair_accuracy for r in rows], **style))
    batch = _("batch")
    return [svg_chart(loss, _("loss"), batch), svg_chart(accuracy, _("pair accuracy (at 0.5)"), batch)]


# The table's columns, in English (the keys result_rows returns; the page shows _(key)).
WEIGHTS, PARAMETERS = N_("weights"), N_("parameters")
ACCURACY, SECONDS = N_("test pair accuracy (%)"), N_("training time (s)")
ASYMMETRY_MEAN, ASYMMETRY_MAX = N_("mean |d(A,B) − d(B,A)|"), N_("max |d(A,B) − d(B,A)|")
DECIMALS = {ACCURACY: 2, SECONDS: 2, "AUC": 4}  # the table's digits; the sentence reads the same values


def result_rows(result: RaceResult) -> list[dict]:
    """The race's table, rounded as it is shown: :func:`result_sentence` restates these values."""
    return [
        {
            WEIGHTS: "shared" if side.shared else "unshared",
            PARAMETERS: side.parameters,
            SECONDS: round(side.seconds, DECIMALS[SECONDS]),
            ACCURACY: round(100 * side.test_accuracy, DECIMALS[ACCURACY]),
            "AUC": round(side.auc, DECIMALS["AUC"]),
            ASYMMETRY_MEAN: significant(side.asymmetry_mean),
            ASYMMETRY_MAX: significant(side.asymmetry_max),
        }
        for side in result.sides
    ]


def shown_rows(rows: list[dict]) -> list[dict]:
    """:func:`result_rows` as the reader reads them: column names and sides in their language."""
    return [
        {_(name): _(SIDES[value]) if name == WEIGHTS else value for name, value in row.items()}
        for row in rows
    ]


def result_sentence(result: RaceResult) -> str:
    """What the race showed, read off the table's rounded numbers (a gap of 4.62 under a table whose
    accuracies differ by 4.62, even when the unrounded gap is 4.628), in the reader's language."""
    shared, unshared = result_rows(result)
    gap = round(shared[ACCURACY] - unshared[ACCURACY], DECIMALS[ACCURACY])
    better = "shared" if gap > 0 else "unshared" if gap < 0 else None
    fields = dict(
        better=_(SIDES[better]) if better else "",
        pairs=result.test_pairs,
        gap=abs(gap),
        ratio=unshared[PARAMETERS] / shared[PARAMETERS],
        unshared=unshared[PARAMETERS],
        shared=shared[PARAMETERS],
        seconds=unshared[SECONDS],
        time_ratio=unshared[SECONDS] / shared[SECONDS] if shared[SECONDS] > 0 else 0.0,
        shared_max=shared[ASYMMETRY_MAX],
        unshared_max=unshared[ASYMMETRY_MAX],
        unshared_mean=unshared[ASYMMETRY_MEAN],
    )
    # both under 0.005 s as shown: a ratio of the shown values would divide by 0
    quick = shared[SECONDS] <= 0
    if better and not quick:
        first = _(
            "The **{better}** network was more accurate on the same {pairs:,} test pairs, by **{gap:.2f} "
            "points**, with **{ratio:.2f}×** the parameters when unshared ({unshared:,} against {shared:,}) "
            "and {time_ratio:.2f}× the training time."
        )
    elif better:
        first = _(
            "The **{better}** network was more accurate on the same {pairs:,} test pairs, by **{gap:.2f} "
            "points**, with **{ratio:.2f}×** the parameters when unshared ({unshared:,} against {shared:,}) "
            "and {seconds:.2f} s of training against under 0.01 s."
        )
    elif not quick:
        first = _(
            "Both networks scored the same on the {pairs:,} test pairs, with **{ratio:.2f}×** the parameters "
            "when unshared ({unshared:,} against {shared:,}) and {time_ratio:.2f}× the training time."
        )
    else:
        first = _(
            "Both networks scored the same on the {pairs:,} test pairs, with **{ratio:.2f}×** the parameters "
            "when unshared ({unshared:,} against {shared:,}) and {seconds:.2f} s of training against under "
            "0.01 s."
        )
    if shared[ASYMMETRY_MAX] == 0:
        second = _(
            "Fed the same pair in both orders, the shared network's distances are **identical** both ways "
            "(difference exactly 0); the unshared one's differ by up to **{unshared_max:g}** (mean "
            "{unshared_mean:g}): with two branches, d(A, B) ≠ d(B, A)."
        )
    else:
        second = _(
            "Fed the same pair in both orders, the shared network's distances differ by at most "
            "**{shared_max:g}**; the unshared one's differ by up to **{unshared_max:g}** (mean "
            "{unshared_mean:g}): with two branches, d(A, B) ≠ d(B, A)."
        )
    space = "" if current_language() == "zh" else " "  # Chinese runs its sentences together
    return first.format(**fields) + space + second.format(**fields)


def result_heading(result: RaceResult) -> str:
    return _("**The last race** ({branch} branch, {head} head) on {data}:").format(
        branch=result.config.branch, head=_(result.config.head), data=dataset_title(result.dataset)
    )


def result_ui(result: RaceResult) -> None:
    st.markdown(result_heading(result))
    rows = shown_rows(result_rows(result))
    decimals = {_(name): digits for name, digits in DECIMALS.items()}
    st.dataframe(rows, width="stretch", hide_index=True, column_config=column_config(rows, decimals))
    st.markdown(result_sentence(result))
    st.markdown(
        panel_html(
            charts_html(
                race_charts(
                    {"shared": curve(result.shared.batches), "unshared": curve(result.unshared.batches)}
                )
            )
        ),
        unsafe_allow_html=True,
    )
    st.page_link(
        "pages/board.py",
        label=_("Post both runs to your class's board"),
        icon=":material/leaderboard:",
    )
