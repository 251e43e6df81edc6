"""Train: a configuration form held in the link, start / pause / step / stop / reset, and live
curves. The buttons and the status panel are drawn together from one snapshot of the job."""

from __future__ import annotations

import math
import time

import plotly.graph_objects as go
import streamlit as st

from siamese_core.config import (
    BRANCHES,
    DATASETS,
    DEFAULT_PRESET,
    DISTANCES,
    HEADS,
    LABELS,
    MAX_HELD_OUT,
    OPTIMIZERS,
    PAIR_PROTOCOLS,
    PRESETS,
    SOURCE_RESULT,
    SiameseConfig,
)
from siamese_core.i18n import N_, _, ngettext
from siamese_core.jobs import Status, job_text
from siamese_core.results import learned_nothing
from siamese_ui.announce import announce
from siamese_ui.charts import chart
from siamese_ui.live_panel import (
    charts_html,
    focus_script,
    metrics_html,
    panel_html,
    progress_html,
    table_html,
)
from siamese_ui.loss_view import loss_panel
from siamese_ui.navigation import resend_to_address, switch_to
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.resources import (
    device_now,
    resolved_dataset_name,
    worker_pool,
)
from siamese_ui.run_control import (
    FOCUS,
    FOCUS_END,
    MESSAGE,
    PAUSE,
    START,
    STOP,
    control_buttons,
    left_line,
    why_no_training,
)
from siamese_ui.session import TRAIN_JOB, adopt_finished_training, find_my_training
from siamese_ui.student import student_id
from siamese_ui.svg_chart import Series, series_summary, svg_chart
from siamese_ui.train_form import (
    FIELDS,
    FORM,
    PRESET,
    SEED,
    choice_widget,
    load_preset,
    option_labels,
    run_link,
    seed_note,
    seed_widget,
    settings_differ,
    student_seed,
    translated_choice,
)
from siamese_ui.training_view import (
    accuracy_note,
    curves,
    epoch_header,
    epoch_rows,
    learned_nothing_note,
    long_run_note,
    number,
    paused_yield_note,
    percent,
    queue_line,
    refresh_seconds,
    server_line,
    status_line,
    stopped_note,
    trained_nothing,
)

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

REFRESH = "train.refresh"  # the pace the panel was declared with on this run of the page
LIVE_EPOCH_ROWS = 5

# One row per configuration field: (field, widget, options or None, help). The widgets' defaults
# are the chosen preset's values, so the link holds the preset plus what differs from it, and
# reading the link back starts from the same preset: it always reopens the same experiment.
HELP = {  # one line each: what the control does to the loss or to the pairs (shown through _())
    "dataset": N_(
        "where the pairs' digits come from: full MNIST when it can be had, else the 5,000 embedded digits"
    ),
    "branch": N_(
        "the feature extractor both digits of a pair go through; a bigger one can lower the loss further"
    ),
    "head": N_(
        "distance: the contrastive loss on the distance of the two embeddings; matchnet: cross-entropy "
        "on a small network's p(same)"
    ),
    "distance": N_("what the loss measures between the two embeddings: Euclidean (0 … ∞) or cosine (0 … 2)"),
    "shared": N_(
        "on: both digits of a pair go through the same weights; off: each side has its own, so "
        "d(A, B) ≠ d(B, A)"
    ),
    "embedding_dim": N_(
        "length of the vector each digit becomes: the space in which the loss pulls and pushes"
    ),
    "margin": N_(
        "different-digit pairs closer than this add (margin − d)² to the loss; beyond it they cost nothing"
    ),
    "optimizer": N_("how each batch's gradient of the loss turns into a weight change"),
    "learning_rate": N_("how far one batch moves the weights down the loss; too large and the loss explodes"),
    "batch_size": N_("pairs averaged into each loss and gradient step"),
    "epochs": N_("how many times a set of pairs is trained on (fresh pairs each time with Resample pairs)"),
    "pairs_per_epoch": N_(
        "pairs drawn per epoch, half same and half different digits; 0: two per training image"
    ),
    "held_out_classes": N_(
        "digits that never appear in a training pair: can the network still tell them apart?"
    ),
    "seed": N_(
        "same seed, same splits, same pairs and same starting weights: the same loss curve; each "
        "student starts from their own"
    ),
    "pair_protocol": N_(
        "balanced: fresh random pairs, half same; keras-example: the example's alternating pairs"
    ),
    "resample_pairs": N_("a fresh draw of pairs each epoch: the loss sees more combinations, overfits less"),
    "calibrate_threshold": N_(
        "the verdict's distance threshold, picked on validation pairs after each epoch "
        "instead of a fixed 0.5 (the loss does not change)"
    ),
    "steps_per_execution": N_(
        "batches per TensorFlow call: faster, but the loss is reported and Pause or Step act every that many"
    ),
    "val_size": N_(
        "training images kept out of the pairs, to measure the validation loss and threshold; 0 "
        "validates on test digits (fixed threshold only)"
    ),
    "jit_compile": N_("compile the loss and its gradient with XLA (a slower start, not faster here)"),
}
# The form's columns, top to bottom: data, the network, the loss and optimiser, the budget.
MAIN_COLUMNS = [
    [("dataset", DATASETS), ("held_out_classes", None), ("seed", None)],
    [("branch", BRANCHES), ("head", HEADS), ("distance", DISTANCES), ("embedding_dim", None), ("shared", None)],
    [("margin", None), ("optimizer", OPTIMIZERS), ("learning_rate", None)],
    [("batch_size", None), ("epochs", None), ("pairs_per_epoch", None)],
]  # fmt: skip
ADVANCED_COLUMNS = [
    [("pair_protocol", PAIR_PROTOCOLS), ("resample_pairs", None)],
    [("val_size", None), ("calibrate_threshold", None)],
    [("steps_per_execution", None), ("jit_compile", None)],
]  # fmt: skip
_ALL = [name for column in MAIN_COLUMNS + ADVANCED_COLUMNS for name, _ in column]
assert sorted(_ALL) == sorted(FIELDS), "every configuration field has exactly one widget"


# ---- the configuration form ----------------------------------------------------------------------
def _on_preset_change() -> None:
    load_preset(st.session_state[PRESET])


def field_widget(field: str, options, preset: SiameseConfig):
    """One configuration field as a widget bound to the link, defaulting to the preset (the seed:
    the student's own, see siamese_ui/train_form.py)."""
    default, label, key = getattr(preset, field), _(LABELS[field]), FORM + field
    if key == SEED:
        return seed_widget(label, _(HELP[field]), student_seed(student_id()))
    if options is not None and translated_choice(options):  # its link word the same in every language
        return choice_widget(label, options, default, key, _(HELP[field]))
    resend_to_address(key)
    common = dict(key=key, help=_(HELP[field]), bind="query-params")
    if options is not None:  # the values stay (the link's words); the reader reads option_label
        return st.selectbox(
            label, options, index=list(options).index(default), format_func=option_labels(), **common
        )
    if field == "held_out_classes":
        return st.multiselect(
            label,
            list(range(10)),
            default=list(default),
            max_selections=MAX_HELD_OUT,
            placeholder=_("None: every digit is trained on"),  # Streamlit's own would say "Choose options"
            **common,
        )
    if isinstance(default, bool):
        return st.toggle(label, value=default, **common)
    if isinstance(default, float):  # no min/max: an out-of-range value gets the config's sentence
        return st.number_input(label, value=default, format="%.5g", **common)
    step = 1000 if field == "pairs_per_epoch" else 1
    return st.number_input(label, value=default, step=step, **common)


def _number(value, fallback: float = 1.0) -> float:
    """The margin as the form holds it (a widget may hand over None while being edited)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return fallback


def configuration_form(expanded: bool) -> tuple[SiameseConfig | None, str]:
    """The form; returns (config, "") or (None, the reasons it cannot be trained)."""
    with st.expander(_("Configuration"), expanded=expanded):
        resend_to_address(PRESET)
        name = st.selectbox(
            _("Preset"),
            list(PRESETS),
            index=list(PRESETS).index(DEFAULT_PRESET),
            key=PRESET,
            on_change=_on_preset_change,
            bind="query-params",
            help=_(
                "Fills the form with a tested setup (its pairs, loss and budget); change anything afterwards. "
                "The address bar keeps it all."
            ),
        )
        preset = PRESETS[name]
        values = {}
        columns = st.columns(4)
        for column, fields in zip(columns, MAIN_COLUMNS, strict=True):
            with column:
                for field, options in fields:
                    values[field] = field_widget(field, options, preset)
        st.markdown(seed_note(values["seed"], student_seed(student_id())))
        with st.expander(_("What the margin does: the contrastive loss"), icon=":material/functions:"):
            loss_panel(_number(values["margin"]), values["distance"], values["head"], key="train.loss_plot")
        with st.expander(_("Advanced"), expanded=False):
            for column, fields in zip(st.columns(3), ADVANCED_COLUMNS, strict=True):
                with column:
                    for field, options in fields:
                        values[field] = field_widget(field, options, preset)
    values["held_out_classes"] = tuple(sorted(values["held_out_classes"]))
    if values["seed"] is None:
        return None, seed_note(None, student_seed(student_id()))
    try:
        return SiameseConfig(**values), ""
    except (ValueError, TypeError) as exc:
        return None, str(exc)


# ---- the status panel ------------------------------------------------------------------------------------
def plotly_figure(series: list[Series], title: str) -> go.Figure:
    figure = go.Figure()
    for s in series:
        lone = sum(y is not None and math.isfinite(y) for y in s.y) == 1  # a line of one point draws nothing
        mode = "+".join(m for m, on in (("lines", s.lines), ("markers", s.markers or lone)) if on)
        dash = ",".join(f"{n}px" for n in s.dash.split()) or "solid"  # the SVG's dasharray, in Plotly's words
        figure.add_scatter(
            x=list(s.x),
            y=list(s.y),
            name=s.name,
            mode=mode,
            line={"color": s.color, "dash": dash},
            marker={"color": s.color, "symbol": s.marker, "size": 9 if not s.lines else 7},
        )
    figure.update_layout(
        height=340,
        margin=dict(t=30, b=10),
        title=title,
        xaxis_title=_("batch"),
        legend=dict(orientation="h", y=-0.3),
        uirevision="keep",
    )
    return figure


def source_comparison(snapshot, config: SiameseConfig) -> None:
    """Beside a run of the Keras example's protocol: what the example itself reports."""
    result = snapshot.result
    if result is None or config.pair_protocol != "keras-example":
        return
    source = _(
        "**The source example** (Keras's `mnist_siamese.py`, the lesson's seed) says: *\"{quote}\"* "
        "Its log's epoch {epochs}: `{log}`."
    ).format(quote=_(SOURCE_RESULT["quote"]), epochs=SOURCE_RESULT["epochs"], log=SOURCE_RESULT["last_log"])
    accuracy = 100 * result.test_pair_accuracy
    epochs = ngettext("{n} epoch", "{n} epochs", result.epochs).format(n=result.epochs)
    if snapshot.status == Status.STOPPED:  # its last epoch may hold a few batches only
        yours = _(
            "**Yours:** {accuracy:.2f}% after {step:,} of {total:,} batches (stopped early, so not the "
            "example's whole run)."
        ).format(accuracy=accuracy, step=snapshot.step, total=snapshot.total_steps)
    elif config == PRESETS["keras-example"].replace(dataset=config.dataset, seed=config.seed):
        yours = _("**Yours:** {accuracy:.2f}% after {epochs} (the example's own setup).").format(
            accuracy=accuracy, epochs=epochs
        )
    else:
        yours = _(
            "**Yours:** {accuracy:.2f}% after {epochs}, with settings that differ from the example's."
        ).format(accuracy=accuracy, epochs=epochs)
    st.info(f"{source} {yours}", icon=":material/menu_book:")


def status_panel(snapshot, left: bool = False, probes=(), shared: bool = True) -> None:
    """Progress, figures and (while training) the light SVG charts and recent epochs, as one block.
    ``left``: the run ended in line, without a worker; ``probes``: its probe digits' embeddings
    per epoch, and ``shared`` its weight sharing (what a run at chance level is told)."""
    last_epoch = snapshot.epoch_history[-1] if snapshot.epoch_history else None
    figures = [
        (_("Training loss"), number(snapshot.batches[-1].loss if snapshot.batches else None)),
        (_("Validation loss"), number(last_epoch.val_loss if last_epoch else None)),
        (_("Validation pair accuracy"), percent(last_epoch.val_pair_accuracy if last_epoch else None)),
        (
            _("Threshold (calibrated)") if snapshot.calibrated else _("Threshold (fixed)"),
            "—" if snapshot.threshold is None else f"{snapshot.threshold:.3f}",
        ),
        (_("Device"), job_text(snapshot.device) or "…"),
    ]
    parts = [
        progress_html(
            snapshot.progress, status_line(snapshot), st.get_option("theme.primaryColor") or "#2e7d32"
        )
    ]
    if not trained_nothing(snapshot):  # a run over before its first batch has no figure to show
        parts.append(metrics_html(figures))
    live = snapshot.status in (Status.STARTING, Status.RUNNING)
    titles, batch = (_("loss"), _("pair accuracy")), _("batch")
    if live:  # the whole live view is one element: what the browser redraws each second
        if snapshot.batches:
            parts.append(
                charts_html(
                    [
                        svg_chart(series, title, batch)
                        for series, title in zip(curves(snapshot), titles, strict=True)
                    ]
                )
            )
        if snapshot.epoch_history:
            shown = snapshot.epoch_history[-LIVE_EPOCH_ROWS:]
            note = (
                _("The last {shown} of {epochs} epochs; all of them when the run is paused or over.").format(
                    shown=len(shown), epochs=len(snapshot.epoch_history)
                )
                if len(snapshot.epoch_history) > len(shown)
                else ""
            )
            parts.append(table_html(epoch_header(), epoch_rows(shown), note))
    st.markdown(panel_html(*parts), unsafe_allow_html=True)
    result = snapshot.result
    announce(
        "train.status",
        _("Training finished: test pair accuracy {accuracy:.2f}% at threshold {threshold:.3f}.").format(
            accuracy=100 * result.test_pair_accuracy, threshold=result.threshold
        )
        if result is not None and snapshot.status == Status.FINISHED
        else status_line(snapshot),
        # paused, a Step's batches are news: its new batch count is said at once, not 10 s later
        kind=f"{snapshot.status}{result is not None}{snapshot.step if snapshot.status == Status.PAUSED else ''}",
    )
    if note := long_run_note(snapshot):
        st.warning(note, icon=":material/schedule:")
    if snapshot.status == Status.FAILED:
        st.error(_("Training stopped: {reason}").format(reason=job_text(snapshot.reason)))
    elif snapshot.status == Status.STOPPED:
        st.warning(stopped_note(snapshot, left), icon=":material/stop_circle:")
    if not live:
        if snapshot.batches:
            for column, series, title, key in zip(
                st.columns(2),
                curves(snapshot),
                titles,
                ("train.loss", "train.acc"),
                strict=True,
            ):
                chart(plotly_figure(series, title), series_summary(series, batch), key=key, where=column)
        if snapshot.epoch_history:
            st.dataframe(
                [dict(zip(epoch_header(), row, strict=True)) for row in epoch_rows(snapshot.epoch_history)],
                width="stretch",
                hide_index=True,
            )
    if snapshot.batches:
        st.caption(accuracy_note(snapshot.calibrated))
    if result := snapshot.result:
        st.success(result_line(result))
        if snapshot.status == Status.FINISHED and (failure := learned_nothing(result, probes)):
            st.warning(learned_nothing_note(failure, shared), icon=":material/trending_flat:")


def result_line(result) -> str:
    """The test report in one line of figures, each with its name."""
    one_shot = result.one_shot_accuracy_held_out
    figures = [
        _(
            "Test pair accuracy **{accuracy:.2f}%** at threshold {threshold:.3f} on {pairs:,} test pairs"
        ).format(
            accuracy=100 * result.test_pair_accuracy, threshold=result.threshold, pairs=result.test_pairs
        ),
        f"ROC AUC {result.auc:.4f}",
        f"precision@1 {result.precision_at_1:.3f}",
        _("MAP@R undefined") if result.map_at_r is None else f"MAP@R {result.map_at_r:.3f}",
    ]
    if one_shot is not None:
        figures.append(
            _("{way}-way one-shot on held-out digits {accuracy:.1f}%").format(
                way=result.one_shot_way, accuracy=100 * one_shot
            )
        )
    figures.append(_("{seconds:.1f} s of training.").format(seconds=result.train_seconds))
    return " · ".join(figures)


def training_panel(polling: bool, config: SiameseConfig | None) -> None:
    """Buttons and status from one snapshot; redrawn while a run is on (``refresh_seconds``)."""
    job = st.session_state.get(TRAIN_JOB)
    snapshot = job.snapshot() if job is not None else None
    status = snapshot.status if snapshot is not None else Status.IDLE
    place = queued_place(job, status)
    control_buttons(job, snapshot, config)
    # Where the keyboard goes when a button disables itself (one slot, drawn on every run: an element
    # that comes and goes makes Streamlit redraw the widgets under it, and they lose the focus).
    script = "<script></script>"
    if polling and status.active and st.session_state.pop(FOCUS, False):
        # Start has just disabled itself, dropping the focus to the page body: hand it on
        script = focus_script(START, (PAUSE, STOP))
    elif not status.active and st.session_state.pop(FOCUS_END, False):
        # the run ended (finished or stopped) while Pause or Stop had the focus, and both have just
        # disabled themselves: Start, for the next run (the result is read out by the status region)
        script = focus_script(None, (START,))
    st.html(script, unsafe_allow_javascript=True, width=1)
    if message := st.session_state.pop(MESSAGE, None):
        getattr(st, message[0])(message[1])
    pool = worker_pool().stats()
    if pool.size == 0:
        st.warning(why_no_training(), icon=":material/memory:")
    else:
        st.caption(server_line(pool.running, pool.size, pool.queued, pool.paused))
    if status == Status.PAUSED and pool.queued and getattr(job, "paused_since", 0.0) and not job.stopping:
        left = worker_pool().paused_yield_seconds - (time.monotonic() - job.paused_since)
        st.warning(paused_yield_note(pool.queued, left), icon=":material/timer:")
    if snapshot is not None and status.active and job.stopping:
        st.info(
            _(
                "**Stopping:** the current batch ends, then the model is tested on the test pairs; its result "
                "appears here in a few seconds."
            ),
            icon=":material/stop_circle:",
        )
    if snapshot is None:
        st.info(_("Pick a preset or set the form, then press **Start**. Curves appear here as it trains."))
    else:
        if place is not None:
            st.info(queue_line(place.position, place.wait_seconds), icon=":material/hourglass_top:")
        if status.ended:  # before drawing: a click that cuts this redraw short must not lose it
            adopt_finished_training(job)
            if config is not None and (differ := settings_differ(job.config, config)):
                st.info(differ, icon=":material/compare_arrows:")
        status_panel(snapshot, left_line(job), job.probe_snapshots, job.config.shared)
        source_comparison(snapshot, job.config)
    if polling != status.active:
        if polling:
            st.session_state[FOCUS_END] = True
        st.rerun()  # the whole page: start or stop polling, open or fold the form
    if st.session_state.get(REFRESH) != refresh_seconds(status, place):
        st.rerun()  # the whole page: the panel's own pace for the new state (in line, or training)


def queued_place(job, status: Status):
    """The job's place in line (siamese_core.serving.pool_report.Place), or None when it is not waiting."""
    return worker_pool().place(job) if job is not None and status == Status.QUEUED else None


def find_my_run() -> None:
    """A reload or a second tab of the same browser finds this student's run."""
    if find_my_training():
        st.toast(_("Found your training again."), icon=":material/link:")


# ---- the page ------------------------------------------------------------------------------------
st.title(_("Train"))
find_my_run()
job = st.session_state.get(TRAIN_JOB)
if (
    job is not None
    and PRESET not in st.session_state
    and not any(k.startswith(FORM) for k in st.query_params)
):
    # the form's first draw in this session, from a bare address (a reload of /train, the sidebar's
    # link) with the student's run found: the address of its own settings, so that the form, the
    # address and the run on screen agree (exploratory sessions saw the defaults beside a seed-1
    # MLP run's result, then an address that held only part of it)
    switch_to("train", run_link(job.config))
status = job.snapshot().status if job is not None else Status.IDLE
config, problem = configuration_form(expanded=not status.active)
if problem:
    st.error(
        _("This configuration cannot be trained: {problem}").format(problem=problem), icon=":material/error:"
    )
if config is not None and config.dataset == "auto":
    st.caption(resolved_dataset_name()[1])
st.caption(
    _("Device: **{device}** · Share this setup: the address bar holds it.").format(
        device=device_now() or _("starting…")
    )
)
polling = status.active
st.session_state[REFRESH] = refresh_seconds(status, queued_place(job, status))
st.fragment(training_panel, run_every=st.session_state[REFRESH])(polling, config)
if status == Status.FINISHED:
    st.page_link(
        "pages/board.py",
        # a link's label does not wrap: short enough for a phone, the rest in its help
        label=_("Post this run to your class's board"),
        help=_("The board shows the numbers of the run itself; nothing is typed in."),
        icon=":material/leaderboard:",
    )
