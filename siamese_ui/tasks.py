"""The lessons' trainings as background tasks: each holds one of the server's training slots
(the same limit as the Train page), shows its progress and can be stopped; the page stays
responsive and the result lands in the student's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from siamese_core.jobs import BackgroundTask, Status

from .resources import student_registry, training_slots
from .settings import disconnect_grace
from .student import keep_alive_for, student_id

TASKS = "lessons.task."  # session key prefix: one task per lesson
MESSAGES = "lessons.task_message."
REFRESH_SECONDS = 0.5


def start_task(name: str, work: Callable[[Callable[[float, str], None]], Any], owner: int) -> None:
    """A button's callback: run ``work(report)`` in the background if a training slot is free.
    ``owner`` (the model's id) ties the result to the model it was computed for."""
    student, registry = student_id(), student_registry()
    if doing := registry.busy(student):
        st.session_state[MESSAGES + name] = (
            f"You already have {doing} running. One training per student at a time: wait for it, or stop it."
        )
        return
    slots = training_slots()
    if not slots.try_acquire():
        st.session_state[MESSAGES + name] = (
            f"The server's {slots.limit} training slots are all in use "
            "(everyone's trainings count). Try again in a minute."
        )
        return
    task = BackgroundTask(name, work, keep_alive=keep_alive_for(student, registry, disconnect_grace()))
    task.owner = owner
    task.start(on_exit=slots.release)
    st.session_state[TASKS + name] = task
    registry.set_task(student, task)


def task_of(name: str, owner: int) -> BackgroundTask | None:
    task = st.session_state.get(TASKS + name)
    return task if task is not None and getattr(task, "owner", None) == owner else None


def task_ui(name: str, label: str, work: Callable, owner: int, help: str | None = None) -> Any:
    """The Start button, the progress while it runs (a fragment, redrawn every half second),
    and the finished result (None until then)."""
    task = task_of(name, owner)
    running = task is not None and task.snapshot().status == Status.RUNNING
    st.button(
        label,
        key=f"lessons.start.{name}",
        type="primary",
        disabled=running,
        help=help,
        on_click=start_task,
        args=(name, work, owner),
    )
    if message := st.session_state.pop(MESSAGES + name, None):
        st.warning(message, icon=":material/hourglass_top:")
    st.fragment(_progress, run_every=REFRESH_SECONDS if running else None)(name, owner, running)
    snapshot = task.snapshot() if task is not None else None
    return snapshot.result if snapshot is not None and snapshot.status == Status.FINISHED else None


def _progress(name: str, owner: int, polling: bool) -> None:
    task = task_of(name, owner)
    if task is None:
        return
    snapshot = task.snapshot()
    if snapshot.status == Status.RUNNING:
        st.progress(snapshot.progress, text=f"{snapshot.message or 'starting'} · {snapshot.elapsed:.0f} s")
        st.button("Stop", key=f"lessons.stop.{name}", on_click=task.stop, icon=":material/stop:")
    elif snapshot.status == Status.FAILED:
        st.error(f"This training failed: {snapshot.error}")
    elif snapshot.status == Status.STOPPED:
        st.warning("Stopped before the end; nothing to show.")
    elif snapshot.status == Status.FINISHED:
        st.caption(f"Done in {snapshot.elapsed:.1f} s.")
    if polling != (snapshot.status == Status.RUNNING):
        st.rerun()  # the whole page: the result appears, the polling stops
