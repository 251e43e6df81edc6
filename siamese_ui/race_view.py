"""The Weight-sharing lab's race: one click trains the lab's setup shared and unshared
(siamese_core/lessons/race.py, one worker task, the student's one training), both curves live on one
chart, then the two networks side by side. The finished race stays in the session, and its two
runs can be posted to the class board."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from siamese_core.config import PRESETS, SPLIT_SEED, SiameseConfig
from siamese_core.jobs import Status, TaskSnapshot
from siamese_core.lessons.race import CurvePoint, RaceProgress, RaceResult, curve
from siamese_core.network.data import dataset_title
from siamese_core.tasks import Task

from .formatting import column_config, significant
from .live_panel import charts_html, panel_html, progress_html
from .palette import SHARING
from .resources import resolve
from .run_control import MESSAGES, REFRESH_SECONDS, find_my_task, start_task, task_of, task_status_ui
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
    find_my_task()  # a reload or a second tab finds the student's race again, as the board does
    task = task_of(NAME, None)
    if task is not None:
        snapshot = task.snapshot()
        if snapshot.status == Status.FINISHED and isinstance(snapshot.result, RaceResult):
            st.session_state[RESULT] = snapshot.result


def race_ui(lab: SiameseConfig) -> None:
    from siamese_core.serving.protocol import DatasetRef

    config = race_config(lab)
    name = resolve(config.dataset)  # the data set's key, for the worker
    title = dataset_title(name)  # its name for people
    st.subheader("Race them: shared against unshared")
    st.markdown(
        f"One click trains **this lab's network** ({config.branch} branch, {config.head} head, embedding "
        f"{config.embedding_dim}) **twice**, with and without weight sharing, on the same data (**{title}**), "
        f"the same pairs ({config.pairs_per_epoch:,} fresh pairs per epoch, {config.epochs} epochs, batches of "
        f"{config.batch_size}), the same seed and the classroom preset's loss and optimiser. They take turns "
        f"a few batches at a time, so both curves grow together; each side's time counts only its own turns."
    )
    task = task_of(NAME, None)
    going = task is not None and task.snapshot().status.active
    kwargs = {
        "config": config,
        "data": DatasetRef(name, SPLIT_SEED, config.held_out_classes, config.val_size),
    }
    st.button(
        "Race shared against unshared",
        key="ws.race.start",
        type="primary",
        icon=":material/sports_score:",
        disabled=going,
        help="Counts as your one training: it waits in the same line as the Train page's.",
        on_click=start_task,
        args=(NAME, Task.RACE, kwargs, None, "the race on the Weight-sharing lab"),
    )
    if message := st.session_state.pop(MESSAGES + NAME, None):
        st.warning(message, icon=":material/hourglass_top:")
    st.fragment(_live, run_every=REFRESH_SECONDS if going else None)(going)
    if (result := finished_race()) is not None:
        result_ui(result)


def _live(polling: bool) -> None:
    task_status_ui(task_of(NAME, None), polling, stop_key="ws.race.stop", what="The race", running=_curves)


def _curves(snapshot: TaskSnapshot) -> None:
    """The race while it runs: its progress, and both sides' curves so far."""
    colour = st.get_option("theme.primaryColor") or "#2e7d32"
    parts = [
        progress_html(
            snapshot.progress, f"{snapshot.message or 'starting'} · {snapshot.elapsed:.0f} s", colour
        )
    ]
    if isinstance(snapshot.state, RaceProgress):
        parts.append(charts_html(race_charts(snapshot.state.curves())))
    st.markdown(panel_html(*parts), unsafe_allow_html=True)


def race_charts(curves: dict[str, Sequence[CurvePoint]]) -> list[str]:
    """Loss and pair accuracy of both sides (``{"shared": curve, "unshared": curve}``, each
    :func:`siamese_core.lessons.race.curve`) on one chart each, against the batch."""
    loss, accuracy = [], []
    for side in ("shared", "unshared"):
        rows = curves.get(side, [])
        x = [r.step for r in rows]
        look = SHARING[side]
        style = dict(color=look.colour, dash=look.dasharray, marker=look.symbol, end_label=side)
        loss.append(Series(f"{side}: training loss", x, [r.loss for r in rows], **style))
        accuracy.append(
            Series(f"{side}: training pair accuracy", x, [r.pair_accuracy for r in rows], **style)
        )
    return [svg_chart(loss, "loss", "batch"), svg_chart(accuracy, "pair accuracy (at 0.5)", "batch")]


ACCURACY, SECONDS = "test pair accuracy (%)", "training time (s)"
ASYMMETRY_MEAN, ASYMMETRY_MAX = "mean |d(A,B) − d(B,A)|", "max |d(A,B) − d(B,A)|"
DECIMALS = {ACCURACY: 2, SECONDS: 2, "AUC": 4}  # the table's digits; the sentence reads the same values


def result_rows(result: RaceResult) -> list[dict]:
    """The race's table, rounded as it is shown: :func:`result_sentence` restates these values."""
    return [
        {
            "weights": "shared" if side.shared else "unshared",
            "parameters": side.parameters,
            SECONDS: round(side.seconds, DECIMALS[SECONDS]),
            ACCURACY: round(100 * side.test_accuracy, DECIMALS[ACCURACY]),
            "AUC": round(side.auc, DECIMALS["AUC"]),
            ASYMMETRY_MEAN: significant(side.asymmetry_mean),
            ASYMMETRY_MAX: significant(side.asymmetry_max),
        }
        for side in result.sides
    ]


def result_sentence(result: RaceResult) -> str:
    """What the race showed, read off the table's rounded numbers (a gap of 4.62 under a table whose
    accuracies differ by 4.62, even when the unrounded gap is 4.628)."""
    shared, unshared = result_rows(result)
    gap = round(shared[ACCURACY] - unshared[ACCURACY], DECIMALS[ACCURACY])
    better = "shared" if gap > 0 else "unshared" if gap < 0 else None
    verdict = (
        f"The **{better}** network was more accurate on the same {result.test_pairs:,} test pairs, by "
        f"**{abs(gap):.2f} points**"
        if better
        else f"Both networks scored the same on the {result.test_pairs:,} test pairs"
    )
    if shared[SECONDS] > 0:
        time_ratio = f"{unshared[SECONDS] / shared[SECONDS]:.2f}× the training time"
    else:  # both under 0.005 s as shown: a ratio of the shown values would divide by 0
        time_ratio = f"{unshared[SECONDS]:.2f} s of training against under 0.01 s"
    if shared[ASYMMETRY_MAX] == 0:
        shared_gap = "the shared network's distances are **identical** both ways (difference exactly 0)"
    else:
        shared_gap = f"the shared network's distances differ by at most **{shared[ASYMMETRY_MAX]:g}**"
    return (
        f"{verdict}, with **{unshared['parameters'] / shared['parameters']:.2f}×** the parameters when "
        f"unshared ({unshared['parameters']:,} against {shared['parameters']:,}) and {time_ratio}. "
        f"Fed the same pair in both orders, {shared_gap}; the unshared one's differ by up to "
        f"**{unshared[ASYMMETRY_MAX]:g}** (mean {unshared[ASYMMETRY_MEAN]:g}): with two branches, "
        "d(A, B) ≠ d(B, A)."
    )


def result_heading(result: RaceResult) -> str:
    return (
        f"**The last race** ({result.config.branch} branch, {result.config.head} head) on "
        f"{dataset_title(result.dataset)}:"
    )


def result_ui(result: RaceResult) -> None:
    st.markdown(result_heading(result))
    rows = result_rows(result)
    st.dataframe(rows, width="stretch", hide_index=True, column_config=column_config(rows, DECIMALS))
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
        label="Post both runs to your class's board",
        icon=":material/leaderboard:",
    )
