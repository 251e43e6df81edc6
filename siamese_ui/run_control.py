"""Run control, in one place for every training a student starts: the Train page's runs and the
lessons' and the race's tasks. Each waits in the server's one line, shows its place and then its
progress, can be stopped, and finds its way back to the student after a reload; one training per
student at a time, whichever page started it.

The Train page's buttons (Start, Pause or Resume, Step, Stop, Reset) are drawn from the same
snapshot as its status panel; a lesson's task has a Start button and a live progress fragment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from siamese_core.config import DEFAULT_PRESET, PRESETS, SPLIT_SEED, SiameseConfig
from siamese_core.i18n import N_, _, ngettext
from siamese_core.jobs import Status, TaskSnapshot, job_text
from siamese_core.serving.mirrors import RemoteTask
from siamese_core.tasks import Task

from .announce import announce
from .resources import dataset, resolve, student_registry, worker_pool
from .session import TRAIN_JOB, forget_training
from .settings import container_plan, disconnect_grace, text_setting
from .student import keep_alive_for, student_id
from .training_view import LEFT_LINE, queue_line

# ---- the Train page's run -----------------------------------------------------------------------
MESSAGE = "train.message"  # (kind, text) left by a button's callback for the next run
FOCUS = "train.focus"  # set by Start: the next live run hands the keyboard focus on to Pause or Stop
FOCUS_END = "train.focus_end"  # set when a run ends while the page watched it: Start takes the focus
START, PAUSE, RESUME, STEP, STOP, RESET = (
    "train.start", "train.pause", "train.resume", "train.step", "train.stop", "train.reset"
)  # fmt: skip


def start_training(config: SiameseConfig, step_batches: int = 0) -> None:
    """Start a run (a button's callback): it joins the server's queue and begins by itself when
    a worker is free. With ``step_batches``, it starts paused and steps."""
    from siamese_core.serving.mirrors import RemoteTrainingJob

    if why := why_no_training():
        st.session_state[MESSAGE] = ("warning", why)
        return
    student, registry = student_id(), student_registry()
    other = registry.job(student)
    if other is not None and other.snapshot().status.active and other is not st.session_state.get(TRAIN_JOB):
        st.session_state[TRAIN_JOB] = other  # another tab of this browser is training: show that run
        st.session_state[MESSAGE] = (
            "info",
            _("Your other tab is already training; this is that run. One training per student at a time."),
        )
        return
    if doing := registry.busy(student):  # a lesson's training on More lessons
        st.session_state[MESSAGE] = (
            "warning",
            _(
                "You already have {doing} going. One training per student at a time: wait for it, or stop it there."
            ).format(doing=doing),
        )
        return
    name = resolve(config.dataset)
    try:
        data = dataset(name, SPLIT_SEED, config.held_out_classes, config.val_size)
    except Exception as exc:
        st.session_state[MESSAGE] = (
            "error",
            _("The data set could not be loaded: {error}").format(error=exc),
        )
        return
    job = RemoteTrainingJob(
        config,
        data,
        dataset_name=name,
        keep_alive=keep_alive_for(student, registry, disconnect_grace()),
    )
    job.owner = student
    st.session_state[FOCUS] = True
    if step_batches:
        job.pause()
        job.step(step_batches)
    st.session_state[TRAIN_JOB] = job
    registry.set_job(student, job)
    worker_pool().submit(job)


def why_no_training() -> str | None:
    """On a server too small for any training (container.plan_workers), the sentence why; else None."""
    if worker_pool().size > 0:
        return None
    if text_setting("SIAMESE_LAB_MAX_TRAININGS") is not None:  # the teacher's choice, not the memory's
        return _(
            "This server runs no trainings (its setting SIAMESE_LAB_MAX_TRAININGS is 0). Everything else "
            "works: compare digits, explore the pretrained model and the lessons."
        )
    return container_plan().reason


def step_training(job, config: SiameseConfig) -> None:
    if job is not None and job.snapshot().status.active:
        job.step(1)
    else:
        start_training(config, step_batches=1)


def left_line(job) -> bool:
    """Did this run end without ever getting a worker (Stop or Reset while in line)?"""
    return job.started_at == 0.0


def reset_training(job) -> None:
    if job is not None:
        queued = job.snapshot().status == Status.QUEUED
        job.stop()
        student_registry().forget_job(student_id(), job)
        if queued:
            st.session_state[MESSAGE] = ("info", _(LEFT_LINE))
    forget_training()


def control_buttons(job, snapshot, config: SiameseConfig | None) -> None:
    """Start, Pause or Resume, Step, Stop, Reset: enabled from the same snapshot the panel shows.
    While a stop is on its way (the current batch, then the test), only Reset stays."""
    status = snapshot.status if snapshot is not None else Status.IDLE
    active = status.active
    stopping = active and job is not None and job.stopping
    if active:  # what the next Step runs: short at an epoch's end
        batches = snapshot.next_step_batches
    else:  # a new run's first call, cut at its first epoch's end when the form says its length
        planned = config or PRESETS[DEFAULT_PRESET]
        batches = planned.steps_per_execution
        if planned.pairs_per_epoch:
            batches = min(batches, -(-planned.pairs_per_epoch // planned.batch_size))
    step_label = ngettext("Step ({n} batch)", "Step ({n} batches)", batches).format(n=batches)
    cannot_train = why_no_training() is not None  # the page says why, above the buttons
    columns = st.columns(6)
    columns[0].button(
        _("Start"),
        key=START,
        icon=":material/play_arrow:",
        type="primary",
        width="stretch",
        disabled=active or config is None or cannot_train,
        on_click=start_training,
        args=(config,),
        help=_(
            "Draws the first epoch's pairs and trains on them batch by batch, the loss falling as it goes "
            "(waits in line when every worker is busy)."
        ),
    )
    if status == Status.PAUSED:
        columns[1].button(
            _("Resume"),
            key=RESUME,
            icon=":material/play_circle:",
            width="stretch",
            disabled=stopping,
            on_click=job.resume,
            help=_("Goes on with the next batch of pairs; the clock restarts."),
        )
    else:
        columns[1].button(
            _("Pause"),
            key=PAUSE,
            icon=":material/pause:",
            width="stretch",
            disabled=status not in (Status.STARTING, Status.RUNNING) or stopping,
            on_click=job.pause if job else None,
            help=_("Holds the training after the current batch: the loss and the model stay as they are."),
        )
    columns[2].button(
        step_label,
        key=STEP,
        icon=":material/skip_next:",
        width="stretch",
        disabled=(config is None and not active) or stopping or (cannot_train and not active),
        on_click=step_training,
        args=(job, config),
        help=ngettext(
            "Trains on {n} batch of pairs and pauses: watch one step of the loss; starts a paused run if none "
            "is going.",
            "Trains on {n} batches of pairs and pauses: watch one step of the loss; starts a paused run if none "
            "is going.",
            batches,
        ).format(n=batches),
    )
    columns[3].button(
        _("Stop"),
        key=STOP,
        icon=":material/stop:",
        width="stretch",
        disabled=not active or stopping,
        on_click=job.stop if job else None,
        help=_(
            "Ends the training after the current batch; the model and its loss curve so far are kept and tested."
        ),
    )
    columns[4].button(
        _("Reset"),
        key=RESET,
        icon=":material/restart_alt:",
        width="stretch",
        disabled=job is None,
        on_click=reset_training,
        args=(job,),
        help=_(
            "Stops any run and forgets its model and loss curves; the other pages go back to the pretrained model."
        ),
    )


# ---- a lesson's task ------------------------------------------------------------------------------------
TASKS = "lessons.task."  # session key prefix: one (owner, task) per lesson
# Each task's name in words, for the teacher's queue (shown through _()): the names are code's.
TASK_TITLES = {
    "autoencoder": N_("composing models: C trained both ways"),
    "kshot": N_("the k-shot experiment"),
    "rank": N_("the RankIQA scorer"),
    "race": N_("the race: shared against unshared"),
}
MESSAGES = "lessons.task_message."
REFRESH_SECONDS = 0.5


def start_task(name: str, target: Task, kwargs: dict, owner: str | None, description: str = "") -> None:
    """A button's callback: queue ``target(report, **kwargs)`` for a worker. ``owner`` (the
    model's handle; None for a task tied to no model) ties the result to the model it was
    computed for. ``description`` names it for the student's other pages ("a training on
    More lessons (name)" by default)."""
    if why := why_no_training():
        st.session_state[MESSAGES + name] = why
        return
    student, registry = student_id(), student_registry()
    if doing := registry.busy(student):
        st.session_state[MESSAGES + name] = _(
            "You already have {doing} going. One training per student at a time: wait for it, or stop it."
        ).format(doing=doing)
        return
    task = RemoteTask(name, target, kwargs, keep_alive=keep_alive_for(student, registry, disconnect_grace()))
    task.owner = student
    task.description = description or _("a training on More lessons ({name})").format(name=name)
    task.for_owner = owner  # what task_of compares: a reload files the task under it again
    st.session_state[TASKS + name] = (owner, task)
    registry.set_task(student, task)
    worker_pool().submit(task)


def find_my_task() -> None:
    """A reload, a second tab or a link opened in the same browser finds this student's latest
    task again (a finished race's two runs for the class board): the server's registry keeps it."""
    task = student_registry().task(student_id())
    if task is not None:
        entry = st.session_state.get(TASKS + task.name)
        if entry is None or entry[1] is not task:
            st.session_state[TASKS + task.name] = (task.for_owner, task)


def task_of(name: str, owner: str | None) -> RemoteTask | None:
    """The session's task of that name, found again after a reload or in a second tab: a race
    reloaded mid-way showed its Start again, with no progress and no result (exploratory session)."""
    find_my_task()
    entry = st.session_state.get(TASKS + name)
    return entry[1] if entry is not None and entry[0] == owner else None


def task_ui(
    name: str, label: str, target: Task, kwargs: dict, owner: str | None, help: str | None = None
) -> Any:
    """The Start button, the place in line and the progress while it waits and runs (a fragment,
    redrawn every half second), and the finished result (None until then)."""
    task = task_of(name, owner)
    going = task is not None and task.snapshot().status.active
    st.button(
        label,
        key=f"lessons.start.{name}",
        type="primary",
        disabled=going,
        help=help,
        on_click=start_task,
        args=(name, target, kwargs, owner),
    )
    if message := st.session_state.pop(MESSAGES + name, None):
        st.warning(message, icon=":material/hourglass_top:")
    st.fragment(_progress, run_every=REFRESH_SECONDS if going else None)(name, owner, going)
    snapshot = task.snapshot() if task is not None else None
    return snapshot.result if snapshot is not None and snapshot.status == Status.FINISHED else None


def _progress(name: str, owner: str | None, polling: bool) -> None:
    task_status_ui(task_of(name, owner), polling, stop_key=f"lessons.stop.{name}")


def task_status_ui(
    task: RemoteTask | None,
    polling: bool,
    stop_key: str,
    *,
    what: str | None = None,
    running: Callable[[TaskSnapshot], None] | None = None,
) -> None:
    """A task's place in line and Stop, its progress (``running`` draws it, else a progress
    bar) and Stop, then how it ended; the whole page reruns when it starts or ends (inside a
    fragment that polls while ``polling``). ``what`` names the task in the reader's language
    (default: "This training"). The task's progress message and error come from its worker in
    English and are shown through ``job_text`` (a lesson registers its messages' templates with
    ``siamese_core.jobs.add_sentences``)."""
    if task is None:
        return
    what = what or _("This training")
    snapshot = task.snapshot()
    doing = job_text(snapshot.message) or _("starting")
    error = job_text(snapshot.error)
    said = {
        Status.QUEUED: _("{what} is waiting in line."),
        Status.RUNNING: _("{what} is running: {doing}, {progress:.0%} done."),
        Status.FAILED: _("{what} failed: {error}."),
        Status.STOPPED: _("{what} stopped before the end."),
        Status.FINISHED: _("{what} is done, in {seconds:.1f} s."),
    }.get(snapshot.status, "{what} " + str(snapshot.status) + ".")
    said = said.format(
        what=what, doing=doing, progress=snapshot.progress, error=error, seconds=snapshot.elapsed
    )
    announce(f"task.{stop_key}", said, kind=str(snapshot.status))
    if snapshot.status == Status.QUEUED:
        if (place := worker_pool().place(task)) is not None:
            st.info(queue_line(place.position, place.wait_seconds), icon=":material/hourglass_top:")
        st.button(_("Stop"), key=stop_key, on_click=task.stop, icon=":material/stop:")
    elif snapshot.status == Status.RUNNING:
        if running is not None:
            running(snapshot)
        else:
            st.progress(
                snapshot.progress,
                text=_("{doing} · {seconds:.0f} s").format(doing=doing, seconds=snapshot.elapsed),
            )
        st.button(_("Stop"), key=stop_key, on_click=task.stop, icon=":material/stop:")
    elif snapshot.status == Status.FAILED:
        st.error(_("{what} failed: {error}").format(what=what, error=error))
    elif snapshot.status == Status.STOPPED:  # who stopped it
        st.warning(
            _("Stopped before the end ({reason}): nothing to show.").format(reason=job_text(snapshot.message))
        )
    elif snapshot.status == Status.FINISHED:
        st.caption(_("Done in {seconds:.1f} s.").format(seconds=snapshot.elapsed))
    if polling != snapshot.status.active:
        st.rerun()  # the whole page: the result appears, the polling stops
