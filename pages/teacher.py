"""Teacher: behind a PIN, open and close classes, tidy the board, and watch the server: the
training queue with its owners' nicknames, memory and CPU, and a Stop for a runaway run."""

from __future__ import annotations

import os
import time

import psutil
import streamlit as st

from siamese_core.jobs import STOPPED_BY_TEACHER
from siamese_core.serving.board import BoardError, ClassInfo
from siamese_core.serving.container import read_limits
from siamese_core.serving.memory import pss_mb
from siamese_ui.board import BOARD_CODE, PROJECTOR, md_text, open_board
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.resources import worker_pool
from siamese_ui.settings import container_limits, container_plan, text_setting
from siamese_ui.teacher_auth import (
    PIN_NAME,
    UNLOCK_HOURS,
    Verdict,
    check_sentence,
    lock,
    remembered,
    teacher_pin,
    unlock,
    unlocked_until,
    write_cookie,
)

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

CLASS = "teacher.class"
MESSAGE = "teacher.message"
SERVER_REFRESH_SECONDS = 5.0


def no_pin_ui() -> None:
    st.warning(
        "The teacher's page is locked: no teacher PIN is set on this server, so it unlocks nothing.",
        icon=":material/lock:",
    )
    st.markdown(
        f"""To set one:
- **On a laptop**: start the app with the PIN in the environment,
  `{PIN_NAME}=4711 streamlit run app.py`, or put `{PIN_NAME} = "4711"` in `.streamlit/secrets.toml`.
- **On Streamlit Community Cloud**: the app's **Settings → Secrets**, add the line `{PIN_NAME} = "4711"`.

Choose your own PIN (any text); students never need it."""
    )


def unlock_ui(pin: str) -> None:
    with st.form("teacher.unlock", clear_on_submit=True):  # a typed PIN does not stay on screen
        typed = st.text_input("Teacher PIN", type="password")
        remember = st.checkbox(
            f"Keep this browser unlocked for {UNLOCK_HOURS} hours",
            value=True,
            help="A reload or a new tab of this browser stays unlocked until then, or until you press "
            "Lock. Leave it off on a computer that others use after you.",
        )
        if st.form_submit_button("Unlock", icon=":material/lock_open:"):
            if not typed.strip():
                st.error("Type the PIN first.")  # not counted as a wrong PIN
                return
            check = unlock(typed, pin, remember)
            if check.verdict == Verdict.RIGHT:
                st.rerun()
            st.error(check_sentence(check))


def lock_ui(until: float) -> None:
    """The sidebar's Lock, and how long this unlock lasts."""
    if st.sidebar.button("Lock the teacher's page", icon=":material/lock:"):
        lock()
        st.rerun()
    minutes = max(0, int(until - time.time()) // 60)
    left = f"{minutes // 60} h {minutes % 60} min"
    if remembered():
        st.sidebar.markdown(
            f"This browser stays unlocked for {left} more, across reloads, or until you lock it."
        )
    else:
        st.sidebar.markdown(
            f"This tab stays unlocked for {left} more, or until you lock it; a reload asks for the PIN again."
        )


def board_link(code: str, projector: bool = False) -> str:
    """The address students open (it carries the code), from this page's own address."""
    query = f"?{BOARD_CODE}={code}" + (f"&{PROJECTOR}=true" if projector else "")
    try:
        base = st.context.url.split("?")[0].rsplit("/", 1)[0]
    except Exception:  # no browser request (AppTest)
        base = ""
    return f"{base}/board{query}"


def classes_ui(store) -> ClassInfo | None:
    """Open a class; pick the one to manage. Returns the picked class."""
    with st.form("teacher.open", border=True):
        name = st.text_input("New class name", placeholder="Year 12 · Tuesday", max_chars=60)
        if st.form_submit_button("Open a class", icon=":material/add:"):
            try:
                info = store.open_class(name)
                st.session_state[CLASS] = info.code
                st.session_state[MESSAGE] = f"Opened **{md_text(info.name)}**: its code is **{info.code}**."
            except BoardError as error:
                st.error(str(error))
    if message := st.session_state.pop(MESSAGE, None):
        st.success(message, icon=":material/check:")
    classes = store.classes()
    if not classes:
        st.info("No class yet: open one, then show its code to the room.")
        return None
    codes = [c.code for c in classes]
    if st.session_state.get(CLASS) not in codes:
        st.session_state[CLASS] = codes[0]
    by_code = {c.code: c for c in classes}
    code = st.selectbox(
        "Class",
        codes,
        key=CLASS,
        format_func=lambda c: f"{by_code[c].name} · {c}" + ("" if by_code[c].open else " (closed)"),
    )
    return by_code[code]


def class_ui(store, info: ClassInfo) -> None:
    code_column, links = st.columns([1, 2])
    code_column.markdown(
        f"<div style='font-size:3rem;font-weight:700;letter-spacing:0.2em'>{info.code}</div>",
        unsafe_allow_html=True,  # the code is ours: six characters of CODE_ALPHABET
    )
    links.markdown(
        f"Students open **Class board** and type the code, or open this link:  \n`{board_link(info.code)}`  \n"
        f"For the projector: [the board alone]({board_link(info.code, projector=True)})."
    )
    if info.open:
        if st.button(
            "Close the class", icon=":material/lock:", help="No new members or runs; the board stays."
        ):
            store.close_class(info.code)
            st.rerun()
    elif st.button("Reopen the class", icon=":material/lock_open:"):
        store.reopen_class(info.code)
        st.rerun()


def entries_ui(store, info: ClassInfo) -> None:
    entries = store.entries(info.code)
    st.subheader(
        f"The board of {md_text(info.name)}: {len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
    )
    if not entries:
        return
    by_id = {e.id: e for e in entries}
    pick, remove = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        "Entry",
        list(by_id),
        format_func=lambda i: (
            f"#{i} {by_id[i].nickname} · {by_id[i].setup} · "
            f"{'shared' if by_id[i].shared else 'unshared'} · {100 * by_id[i].test_accuracy:.2f}%"
        ),
        key="teacher.entry",
    )
    if remove.button(
        "Remove", icon=":material/delete:", help="Hide this entry; its run cannot be posted again."
    ):
        store.remove(info.code, chosen)
        st.rerun()
    sure = st.checkbox("Yes, clear the whole board of this class", key="teacher.clear_sure")
    if st.button("Clear the board", icon=":material/delete_sweep:", disabled=not sure):
        count = store.clear(info.code)
        st.session_state["teacher.clear_sure"] = False
        st.session_state[MESSAGE] = f"Cleared {count} entries."
        st.rerun()


def server_ui(store, pin: str) -> None:
    """The queue and the running trainings, who owns them, and the machine; every few seconds."""
    if unlocked_until(pin) is None:  # expired, locked in another tab, or the PIN changed
        st.rerun()
    pool = worker_pool()
    queued, running = pool.jobs()
    owners = [job.owner for job in (*running, *queued) if job.owner]
    try:
        names = store.nicknames(owners) if store is not None else {}
    except BoardError:
        names = {}
    now = time.monotonic()
    stopping = sum(job.stopping for job in running)
    if stopping:
        st.subheader(
            f"Trainings: {len(running) - stopping} running and {stopping} stopping of {pool.size}, "
            f"{len(queued)} waiting"
        )
    else:
        st.subheader(f"Trainings: {len(running)} running of {pool.size}, {len(queued)} waiting")
    for place, job in [("stopping" if j.stopping else "running", j) for j in running] + [
        (f"{k}. in line", j) for k, j in enumerate(queued, 1)
    ]:
        who = names.get(job.owner) or (f"student {job.owner[:6]}" if job.owner else "the server")
        since = now - (job.started_at if place in ("running", "stopping") else job.queued_at)
        progress = ""
        if job.kind == "training" and place in ("running", "stopping"):
            snapshot = job.snapshot()
            progress = (
                f" · epoch {snapshot.current_epoch} of {snapshot.epochs}, {100 * snapshot.progress:.0f}%"
            )
        line, button = st.columns([5, 1], vertical_alignment="center")
        line.markdown(f"**{place}** · {job.name} · {md_text(who)} · {since:.0f} s{progress}")
        if button.button(
            "Stop",
            key=f"teacher.stop.{job.id}",
            icon=":material/stop:",
            disabled=job.stopping,  # asked already: it ends its batch and its test evaluation first
            help="Stopping: it ends its current batch and its test evaluation first."
            if job.stopping
            else None,
        ):
            pool.cancel(job, reason=STOPPED_BY_TEACHER)
            st.rerun()
    stats = pool.stats(memory=True)
    server_mb = pss_mb(os.getpid())
    workers_mb = sum(w.pss_mb for w in stats.workers)
    machine = psutil.virtual_memory()
    cpu = psutil.cpu_percent(interval=0.2)
    a, b, c = st.columns(3)
    a.metric(
        "Memory: web server + workers",
        f"{server_mb + workers_mb:,.0f} MB",
        help="Proportional set size (PSS).",
    )
    limits, plan = container_limits(), container_plan()
    if limits.memory_source == "the machine":
        b.metric(
            "Machine memory in use", f"{machine.percent:.0f}%", help=f"of {machine.total / 2**30:.1f} GiB"
        )
    else:  # in a container: its own limit and its own count of what it uses
        used = read_limits().used_bytes  # now, not at start
        b.metric(
            "Container memory in use",
            "—" if used is None else f"{used / 2**20:,.0f} of {limits.memory_mb:,.0f} MB",
            help=f"The limit, from {limits.memory_source}.",
        )
    c.metric("CPU (all cores)", f"{cpu:.0f}%", help=f"{limits.cpus:.3g} cores, from {limits.cpu_source}")
    st.caption(
        f"Model processes: **{pool.size}**. {plan.reason}"
        + (
            " Set by SIAMESE_LAB_MAX_TRAININGS."
            if text_setting("SIAMESE_LAB_MAX_TRAININGS") is not None
            else " Set SIAMESE_LAB_MAX_TRAININGS to choose another number."
        )
    )


st.title("Teacher")
write_cookie()  # after Unlock or Lock: this browser's cookie, written (or removed) once
pin = teacher_pin()
if pin is None:
    no_pin_ui()
    st.stop()
if (until := unlocked_until(pin)) is None:
    unlock_ui(pin)
    st.stop()
lock_ui(until)
try:
    store = open_board()
except BoardError as error:
    st.error(str(error), icon=":material/cloud_off:")
    store = None
if store is not None:
    try:
        info = classes_ui(store)
        if info is not None:
            class_ui(store, info)
            entries_ui(store, info)
    except BoardError as error:
        st.error(str(error), icon=":material/cloud_off:")
st.divider()
st.fragment(server_ui, run_every=SERVER_REFRESH_SECONDS)(store, pin)
