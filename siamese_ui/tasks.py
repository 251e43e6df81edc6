"""The lessons' trainings as background tasks in the server's worker processes: each waits in
the same line as the Train page's trainings, shows its place and then its progress, can be
stopped, and its result lands in the student's session."""

from __future__ import annotations

from typing import Any

import streamlit as st

from siamese_core.jobs import Status
from siamese_core.workers import RemoteTask

from .resources import student_registry, worker_pool
from .settings import disconnect_grace
from .student import keep_alive_for, student_id
from .training_view import queue_line

TASKS = "lessons.task."  # session key prefix: one (owner, task) per lesson
MESSAGES = "lessons.task_message."
REFRESH_SECONDS = 0.5


def start_task(name: str, target: str, kwargs: dict, owner: int | str, description: str = "") -> None:
    """A button's callback: queue ``target(report, **kwargs)`` (a core function named
    "module:function") for a worker. ``owner`` (the model's id) ties the result to the model
    it was computed for. ``description`` names it for the student's other pages ("a training on
    More lessons (name)" by default)."""
    student, registry = student_id(), student_registry()
    if doing := registry.busy(student):
        st.session_state[MESSAGES + name] = (
            f"You already have {doing} going. One training per student at a time: wait for it, or stop it."
        )
        return
    task = RemoteTask(name, target, kwargs, keep_alive=keep_alive_for(student, registry, disconnect_grace()))
    task.owner = student
    task.description = description or f"a training on More lessons ({name})"
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
            st.session_state[TASKS + task.name] = (getattr(task, "for_owner", None), task)


def task_of(name: str, owner: int | str) -> RemoteTask | None:
    entry = st.session_state.get(TASKS + name)
    return entry[1] if entry is not None and entry[0] == owner else None


def task_ui(
    name: str, label: str, target: str, kwargs: dict, owner: int | str, help: str | None = None
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


def _progress(name: str, owner: int | str, polling: bool) -> None:
    task = task_of(name, owner)
    if task is None:
        return
    snapshot = task.snapshot()
    if snapshot.status == Status.QUEUED:
        if (place := worker_pool().place(task)) is not None:
            st.info(queue_line(*place), icon=":material/hourglass_top:")
        st.button("Stop", key=f"lessons.stop.{name}", on_click=task.stop, icon=":material/stop:")
    elif snapshot.status == Status.RUNNING:
        st.progress(snapshot.progress, text=f"{snapshot.message or 'starting'} · {snapshot.elapsed:.0f} s")
        st.button("Stop", key=f"lessons.stop.{name}", on_click=task.stop, icon=":material/stop:")
    elif snapshot.status == Status.FAILED:
        st.error(f"This training failed: {snapshot.error}")
    elif snapshot.status == Status.STOPPED:
        st.warning(f"Stopped before the end ({snapshot.message}); nothing to show.")  # who stopped it
    elif snapshot.status == Status.FINISHED:
        st.caption(f"Done in {snapshot.elapsed:.1f} s.")
    if polling != snapshot.status.active:
        st.rerun()  # the whole page: the result appears, the polling stops
