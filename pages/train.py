"""Train: a config form, start / pause / resume / step / stop / reset, and live curves."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from pages._common import (
    MODEL,
    TRAIN_JOB,
    TRAIN_NOTES,
    ActiveModel,
    dataset,
    device,
    disconnect_grace,
    resolve,
    resolved_dataset_name,
    training_slots,
)
from pages._live_panel import charts_html, metrics_html, panel_html, progress_html, table_html
from pages._svg_chart import Series, svg_chart
from siamese_core.config import BRANCHES, DATASETS, DISTANCES, HEADS, OPTIMIZERS, PRESETS, SiameseConfig

W = "train.w."  # widget key prefix: one widget per config field
PRESET = "train.preset"
# The live view asks for a redraw this often: 1.27 new pictures a second, measured, leaving room
# for a slower laptop; each redraw is one light HTML block (pages/_live_panel.py), so it costs the
# training little.
REFRESH_SECONDS = 0.8
LIVE_EPOCH_ROWS = 5
FIELDS = ("dataset", "branch", "head", "distance", "shared", "embedding_dim", "margin", "optimizer",
          "learning_rate", "batch_size", "epochs", "pairs_per_epoch", "held_out_classes", "seed")

st.title("Train")


# ---- the configuration: query string -> widgets -> SiameseConfig -> query string -------------
def _load_into_widgets(config: SiameseConfig) -> None:
    for f in FIELDS:
        value = getattr(config, f)
        st.session_state[W + f] = list(value) if f == "held_out_classes" else value
    st.session_state["train.base"] = config


def _apply_preset() -> None:
    _load_into_widgets(PRESETS[st.session_state[PRESET]])


if "train.base" not in st.session_state:
    preset_from_home = st.session_state.get("train.config")
    if preset_from_home is not None:
        config0, notes = preset_from_home, []
    else:
        config0, notes = SiameseConfig.from_query(dict(st.query_params), PRESETS["classroom"])
    st.session_state[TRAIN_NOTES] = notes
    _load_into_widgets(config0)
    st.session_state.setdefault(PRESET, "classroom")
elif st.session_state.get("train.config") is not None and st.session_state.get("train.config") != st.session_state.get("train.applied"):
    _load_into_widgets(st.session_state["train.config"])
st.session_state["train.applied"] = st.session_state.get("train.config")
# Streamlit forgets a widget's value when its page is not shown; coming back from another
# page, refill the form from the last configuration instead of the widgets' minimums.
if any(W + f not in st.session_state for f in FIELDS):
    _load_into_widgets(st.session_state.get("train.current", st.session_state["train.base"]))

for note in st.session_state.get(TRAIN_NOTES, []):
    st.warning(f"Link parameter {note}; the default was used.", icon=":material/link:")

job = st.session_state.get(TRAIN_JOB)
busy = job is not None and job.alive

with st.expander("Configuration", expanded=not busy):
    st.selectbox("Preset", list(PRESETS), key=PRESET, on_change=_apply_preset,
                 help="Fills the form; change anything afterwards.")
    c1, c2, c3, c4 = st.columns(4)
    c1.selectbox("Data set", DATASETS, key=W + "dataset",
                 help="auto: full MNIST when it can be had, else the embedded 5,000 digits")
    c1.selectbox("Branch", BRANCHES, key=W + "branch")
    c1.selectbox("Head", HEADS, key=W + "head")
    c2.selectbox("Distance", DISTANCES, key=W + "distance", help="for the distance head")
    c2.toggle("Shared weights", key=W + "shared")
    c2.number_input("Embedding size", 2, 1024, key=W + "embedding_dim")
    c3.selectbox("Optimizer", OPTIMIZERS, key=W + "optimizer")
    c3.number_input("Learning rate", 1e-6, 100.0, key=W + "learning_rate", format="%.5f")
    c3.number_input("Margin", 0.01, 100.0, key=W + "margin", help="contrastive loss margin")
    c4.number_input("Batch size", 2, 4096, key=W + "batch_size")
    c4.number_input("Epochs", 1, 500, key=W + "epochs")
    c4.number_input("Pairs per epoch (0 = two per image)", 0, 2_000_000, step=1000, key=W + "pairs_per_epoch")
    c1.multiselect("Held-out digits (never trained on)", list(range(10)), key=W + "held_out_classes")
    c2.number_input("Seed", 0, 2**31 - 1, key=W + "seed")

try:
    values = {f: st.session_state[W + f] for f in FIELDS}
    values["held_out_classes"] = tuple(sorted(values["held_out_classes"]))
    config = st.session_state["train.base"].replace(**values)
    config_error = ""
except (ValueError, TypeError) as exc:
    config, config_error = None, str(exc)

if config is not None:
    st.session_state["train.current"] = config
    wanted = config.to_query()
    if dict(st.query_params) != wanted:  # the link in the address bar reproduces this setup
        st.query_params.from_dict(wanted)
else:
    st.error(f"This configuration cannot be trained: {config_error}")

data_name = resolve(config.dataset) if config else "mnist-5k"
if config and config.dataset == "auto":
    st.caption(resolved_dataset_name()[1])
st.caption(f"Device: **{device()}** · Share this setup: the address bar holds it.")


# ---- controls -----------------------------------------------------------------------------------
def _keep_alive():
    """"Is this browser session still open?", asked from the training thread every 2 s.
    A session closed for longer than the grace period stops its training and frees its slot."""
    from streamlit.runtime import exists, get_instance
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from siamese_core.training import with_grace

    ctx = get_script_run_ctx()
    if not exists() or ctx is None:  # bare `python pages/train.py` or AppTest: nobody to watch
        return None
    runtime, sid = get_instance(), ctx.session_id
    return with_grace(lambda: runtime.is_active_session(sid), disconnect_grace())


def start(paused: bool = False) -> None:
    from siamese_core.training import TrainingJob

    slots = training_slots()
    if not slots.try_acquire():
        st.session_state["train.busy"] = True
        return
    try:
        ds = dataset(data_name, config.seed, config.held_out_classes)
    except Exception as exc:
        slots.release()
        st.session_state["train.error"] = f"The data set could not be loaded: {exc}"
        return
    new = TrainingJob(config, ds, keep_alive=_keep_alive())
    if paused:
        new.pause()
    new.start(on_exit=slots.release)
    st.session_state[TRAIN_JOB] = new
    st.session_state.pop("train.adopted", None)


b = st.columns(6)
if b[0].button("Start", icon=":material/play_arrow:", type="primary", disabled=busy or config is None, use_container_width=True):
    start()
    st.rerun()
status = job.snapshot()["status"] if job else "idle"
if status == "paused":
    if b[1].button("Resume", icon=":material/play_circle:", disabled=not busy, use_container_width=True):
        job.resume()
        st.rerun()
elif b[1].button("Pause", icon=":material/pause:", disabled=not busy, use_container_width=True):
    job.pause()
    st.rerun()
if b[2].button("Step (1 batch)", icon=":material/skip_next:", disabled=config is None, use_container_width=True,
               help="Runs one batch then pauses; starts a paused run if none is going."):
    if busy:
        job.step()
    else:
        start(paused=True)
        if TRAIN_JOB in st.session_state:
            st.session_state[TRAIN_JOB].step()
    st.rerun()
if b[3].button("Stop", icon=":material/stop:", disabled=not busy, use_container_width=True):
    job.stop()
    st.rerun()
if b[4].button("Reset", icon=":material/restart_alt:", disabled=job is None, use_container_width=True,
               help="Stops any run and forgets it; the other pages go back to the pretrained model."):
    if job is not None:
        job.stop()
    st.session_state.pop(TRAIN_JOB, None)
    st.session_state.pop(MODEL, None)
    st.rerun()

slots_now = training_slots()
st.caption(f"On this server: **{slots_now.in_use} of {slots_now.limit}** training slots in use right now "
           "(shared by everyone using this app).")
if st.session_state.pop("train.busy", False):
    st.warning(
        f"The server is busy: {slots_now.limit} trainings are already running. "
        "Try again in a minute.", icon=":material/hourglass_top:"
    )
if err := st.session_state.pop("train.error", None):
    st.error(err)


# ---- live view ------------------------------------------------------------------------------------
def _thin(rows: list[dict], limit: int = 600) -> list[dict]:
    step = max(1, len(rows) // limit)
    return rows[::step] + ([rows[-1]] if rows and (len(rows) - 1) % step else [])


def curves(snap: dict, steps_per_epoch: int) -> tuple[list[Series], list[Series]]:
    """The two charts' data: per-batch running figures and per-epoch points."""
    batches, epochs = _thin(snap["batches"]), snap["epoch_history"]
    x = [r["step"] for r in batches]
    ex = [e["epoch"] * steps_per_epoch if e["complete"] else snap["step"] for e in epochs]
    loss = [
        Series("training loss (running mean of the epoch)", x, [r["loss"] for r in batches], "#1f77b4"),
        Series("training loss, epoch", ex, [e["loss"] for e in epochs], "#1f77b4", lines=False, markers=True),
        Series("validation loss, epoch", ex, [e["val_loss"] for e in epochs], "#d62728", markers=True),
    ]
    acc = [
        Series("training pair accuracy (running)", x, [r["pair_accuracy"] for r in batches], "#2ca02c"),
        Series("validation pair accuracy, epoch", ex, [e["val_pair_accuracy"] for e in epochs], "#ff7f0e",
               markers=True),
    ]
    return loss, acc


def plotly_figure(series: list[Series], title: str) -> go.Figure:
    fig = go.Figure()
    for s in series:
        mode = "+".join(m for m, on in (("lines", s.lines), ("markers", s.markers)) if on)
        style = {"line": {"color": s.color}} if s.lines else {"marker": {"color": s.color, "size": 9}}
        fig.add_scatter(x=list(s.x), y=list(s.y), name=s.name, mode=mode, **style)
    fig.update_layout(height=320, margin=dict(t=30, b=10), title=title, xaxis_title="batch",
                      legend=dict(orientation="h", y=-0.3), uirevision="keep")
    return fig


def plotly_charts(snap: dict, steps_per_epoch: int) -> None:
    """The interactive charts, once the run is paused or over."""
    c1, c2 = st.columns(2)
    for col, series, title, key in zip((c1, c2), curves(snap, steps_per_epoch), ("loss", "pair accuracy"),
                                       ("train.loss", "train.acc"), strict=True):
        col.plotly_chart(plotly_figure(series, title), use_container_width=True, key=key)


EPOCH_HEADER = ("epoch", "loss", "pair accuracy", "val loss", "val pair accuracy", "threshold", "seconds")


def recent_epochs_html(epochs: list[dict]) -> str:
    """The last epochs while training, as part of the live block (the full sortable grid, and the
    DataFrame behind any st.table, cost the browser too much at every refresh)."""
    shown = epochs[-LIVE_EPOCH_ROWS:]
    rows = [(str(e["epoch"]), _num(e["loss"]), _pct(e["pair_accuracy"]), _num(e["val_loss"]),
             _pct(e["val_pair_accuracy"]), f"{e['threshold']:.3f}", f"{e['seconds']:.1f}") for e in shown]
    caption = (f"The last {len(shown)} of {len(epochs)} epochs; the full table when the run is paused or over."
               if len(epochs) > len(shown) else "")
    return table_html(EPOCH_HEADER, rows, caption)


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def live_view() -> None:
    job = st.session_state.get(TRAIN_JOB)
    if job is None:
        st.info("Pick a preset or set the form, then press **Start**. Curves appear here as it trains.")
        return
    snap = job.snapshot()
    s = snap["status"]
    label = {"starting": "Starting: loading data and building the graph (a few seconds)…",
             "running": "Training", "paused": "Paused", "finished": "Finished", "stopped": "Stopped",
             "failed": "Failed"}.get(s, s)
    eta = f" · ETA {snap['eta_seconds']:.0f} s" if snap["eta_seconds"] is not None and s == "running" else ""
    text = (f"{label} · epoch {min(snap['epoch'] + (s in ('running', 'paused')), snap['epochs'])}/{snap['epochs']} · "
            f"batch {snap['step']}/{snap['total_steps'] or '?'} · {snap['pairs_per_second']:,.0f} pairs/s{eta}")
    last = snap["batches"][-1] if snap["batches"] else {}
    last_epoch = snap["epoch_history"][-1] if snap["epoch_history"] else {}
    figures = [
        ("Training loss", _num(last.get("loss"))),
        ("Validation loss", _num(last_epoch.get("val_loss"))),
        ("Validation pair accuracy", _pct(last_epoch.get("val_pair_accuracy"))),
        ("Threshold (calibrated)" if job.config.calibrate_threshold else "Threshold (fixed)", f"{snap['threshold']:.3f}"),
        ("Device", snap["device"] or "…"),
    ]
    parts = [progress_html(snap["progress"], text, st.get_option("theme.primaryColor") or "#2e7d32"),
             metrics_html(figures)]
    live = s in ("starting", "running")
    if live:  # the whole live view is one element: what the browser redraws each second
        if snap["batches"]:
            parts.append(charts_html([svg_chart(series, title, "batch") for series, title in
                                      zip(curves(snap, job.steps_per_epoch), ("loss", "pair accuracy"), strict=True)]))
        if snap["epoch_history"]:
            parts.append(recent_epochs_html(snap["epoch_history"]))
    st.markdown(panel_html(*parts), unsafe_allow_html=True)
    if s == "failed":
        st.error(f"Training stopped: {snap['reason']}")
    elif s == "stopped":
        st.warning(f"Stopped ({snap['reason']}). The model and the curves so far are kept.")
    if not live:
        if snap["batches"]:
            plotly_charts(snap, job.steps_per_epoch)
        if snap["epoch_history"]:
            st.dataframe(snap["epoch_history"], use_container_width=True, hide_index=True)
    if r := snap["result"]:
        st.success(
            f"Test pair accuracy **{100 * r['test_pair_accuracy']:.2f}%** at threshold {r['threshold']:.3f} "
            f"on {r['test_pairs']:,} test pairs · ROC AUC {r['auc']:.4f} · precision@1 {r['precision_at_1']:.3f} · "
            f"MAP@R {r['map_at_r']:.3f}"
            + (f" · 5-way one-shot on held-out digits {100 * r['one_shot_accuracy_held_out']:.1f}%"
               if r.get("one_shot_accuracy_held_out") is not None else "")
            + f" · {r['train_seconds']:.1f} s of training."
        )
    ended = s in ("finished", "stopped", "failed")
    if ended and not st.session_state.get("train.adopted"):
        st.session_state["train.adopted"] = True
        if s != "failed" and job.model is not None:
            st.session_state[MODEL] = ActiveModel(job.model, job.threshold, "trained in this session",
                                                  job.config, job.dataset.name, job)
        st.rerun()  # whole page: the buttons change and the polling stops


job = st.session_state.get(TRAIN_JOB)
polling = job is not None and (job.alive or not st.session_state.get("train.adopted"))
st.fragment(live_view, run_every=REFRESH_SECONDS if polling else None)()
