"""Teacher: behind a PIN, open and close classes, tidy the board, and watch the server: the
training queue with its owners' nicknames, memory and CPU, and a Stop for a runaway run."""

from __future__ import annotations

import os
import time

import psutil
import streamlit as st

from siamese_core.i18n import _, ngettext
from siamese_core.jobs import STOPPED_BY_TEACHER
from siamese_core.serving.board import BoardError, ClassInfo
from siamese_core.serving.board_stats import setup_shown
from siamese_core.serving.container import HEADROOM_MB, read_limits
from siamese_core.serving.memory import pss_mb
from siamese_ui.board import BOARD_CODE, PROJECTOR, md_text, open_board, sharing_word
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.resources import worker_pool
from siamese_ui.run_control import TASK_TITLES
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
CLEAR_FAILED = "teacher.clear_failed"
SERVER_REFRESH_SECONDS = 5.0
MACHINE = "the machine"  # a limit read from the machine, not a container (serving/container.py)


def source_words(source: str) -> str:
    """Where a limit was read: the machine, in words, or the container's own file (kept as named)."""
    return _("the machine") if source == MACHINE else source


def no_pin_ui() -> None:
    st.warning(
        _("The teacher's page is locked: no teacher PIN is set on this server, so it unlocks nothing."),
        icon=":material/lock:",
    )
    st.markdown(
        _(
            """To set one:
- **On a laptop**: start the app with the PIN in the environment,
  `{name}=4711 streamlit run app.py`, or put `{name} = "4711"` in `.streamlit/secrets.toml`.
- **On Streamlit Community Cloud**: the app's **Settings → Secrets**, add the line `{name} = "4711"`.

Choose your own PIN (any text); students never need it."""
        ).format(name=PIN_NAME)
    )


def unlock_ui(pin: str) -> None:
    with st.form("teacher.unlock", clear_on_submit=True):  # a typed PIN does not stay on screen
        typed = st.text_input(_("Teacher PIN"), type="password", key="teacher.pin")
        remember = st.checkbox(
            ngettext(
                "Keep this browser unlocked for {hours} hour",
                "Keep this browser unlocked for {hours} hours",
                UNLOCK_HOURS,
            ).format(hours=UNLOCK_HOURS),
            value=True,
            key="teacher.remember",
            help=_(
                "A reload or a new tab of this browser stays unlocked until then, or until you press "
                "Lock. Leave it off on a computer that others use after you."
            ),
        )
        if st.form_submit_button(_("Unlock"), key="teacher.unlock_button", icon=":material/lock_open:"):
            if not typed.strip():
                st.error(_("Type the PIN first."))  # not counted as a wrong PIN
                return
            check = unlock(typed, pin, remember)
            if check.verdict == Verdict.RIGHT:
                st.rerun()
            st.error(check_sentence(check))


def lock_ui(until: float) -> None:
    """The sidebar's Lock, and how long this unlock lasts."""
    if st.sidebar.button(_("Lock the teacher's page"), key="teacher.lock", icon=":material/lock:"):
        lock()
        st.rerun()
    minutes = max(0, int(until - time.time()) // 60)
    left = _("{hours} h {minutes} min").format(hours=minutes // 60, minutes=minutes % 60)
    if remembered():
        st.sidebar.markdown(
            _("This browser stays unlocked for {left} more, across reloads, or until you lock it.").format(
                left=left
            )
        )
    else:
        st.sidebar.markdown(
            _(
                "This tab stays unlocked for {left} more, or until you lock it; a reload asks for the PIN again."
            ).format(left=left)
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
        name = st.text_input(
            _("New class name"), key="teacher.class_name", placeholder=_("Year 12 · Tuesday"), max_chars=60
        )
        if st.form_submit_button(_("Open a class"), key="teacher.open_button", icon=":material/add:"):
            try:
                info = store.open_class(name)
                st.session_state[CLASS] = info.code
                st.session_state[MESSAGE] = _("Opened **{name}**: its code is **{code}**.").format(
                    name=md_text(info.name), code=info.code
                )
            except BoardError as error:
                st.error(str(error))
    if message := st.session_state.pop(MESSAGE, None):
        st.success(message, icon=":material/check:")
    classes = store.classes()
    if not classes:
        st.info(_("No class yet: open one, then show its code to the room."))
        return None
    codes = [c.code for c in classes]
    if st.session_state.get(CLASS) not in codes:
        st.session_state[CLASS] = codes[0]
    by_code = {c.code: c for c in classes}
    # Labels made in this run: a format_func that translates would answer in English where it is
    # called outside the run (AppTest finds the chosen option so).
    shown = {
        c: (_("{name} · {code}") if one.open else _("{name} · {code} (closed)")).format(name=one.name, code=c)
        for c, one in by_code.items()
    }
    code = st.selectbox(_("Class"), codes, key=CLASS, format_func=shown.__getitem__)
    return by_code[code]


def class_ui(store, info: ClassInfo) -> None:
    code_column, links = st.columns([1, 2])
    code_column.markdown(
        f"<div style='font-size:3rem;font-weight:700;letter-spacing:0.2em'>{info.code}</div>",
        unsafe_allow_html=True,  # the code is ours: six characters of CODE_ALPHABET
    )
    links.markdown(
        _(
            "Students open **Class board** and type the code, or open this link:  \n`{link}`  \n"
            "For the projector: [the board alone]({projector_link})."
        ).format(link=board_link(info.code), projector_link=board_link(info.code, projector=True))
    )
    if info.open:
        if st.button(
            _("Close the class"),
            key="teacher.close",
            icon=":material/lock:",
            help=_("No new members or runs; the board stays."),
        ):
            store.close_class(info.code)
            st.session_state[MESSAGE] = _(
                "Closed **{name}**: no new members or runs; its board stays."
            ).format(name=md_text(info.name))
            st.rerun()
    elif st.button(_("Reopen the class"), key="teacher.reopen", icon=":material/lock_open:"):
        store.reopen_class(info.code)
        st.session_state[MESSAGE] = _("Reopened **{name}**: students can join and post again.").format(
            name=md_text(info.name)
        )
        st.rerun()


def entries_ui(store, info: ClassInfo) -> None:
    entries = store.entries(info.code)
    st.subheader(
        ngettext("The board of {name}: {n} entry", "The board of {name}: {n} entries", len(entries)).format(
            name=md_text(info.name), n=len(entries)
        )
    )
    if not entries:
        return
    by_id = {e.id: e for e in entries}
    pick, remove = st.columns([4, 1], vertical_alignment="bottom")
    chosen = pick.selectbox(
        _("Entry"),
        list(by_id),
        format_func={  # made in this run, as the Class box's
            e.id: f"#{e.id} {e.nickname} · {setup_shown(e.setup)} · {sharing_word(e.shared)} · "
            f"{100 * e.test_accuracy:.2f}%"
            for e in entries
        }.__getitem__,
        key="teacher.entry",
    )
    if remove.button(
        _("Remove"),
        key="teacher.remove",
        icon=":material/delete:",
        help=_("Hide this entry; its run cannot be posted again."),
    ):
        store.remove(info.code, chosen)
        st.rerun()
    sure = st.checkbox(_("Yes, clear the whole board of this class"), key="teacher.clear_sure")
    st.button(
        _("Clear the board"),
        key="teacher.clear",
        icon=":material/delete_sweep:",
        disabled=not sure,
        on_click=clear_board,  # before the run: the box above can still be unticked
        args=(store, info.code),
    )
    if failed := st.session_state.pop(CLEAR_FAILED, None):
        st.error(failed, icon=":material/cloud_off:")


def clear_board(store, code: str) -> None:
    """The Clear button's callback. Unticking the box after it was drawn in this run raised
    StreamlitWidgetAlreadyInstantiatedError: a callback runs before the page is drawn."""
    try:
        count = store.clear(code)
    except BoardError as error:  # said under the button, in this run
        st.session_state[CLEAR_FAILED] = str(error)
        return
    st.session_state["teacher.clear_sure"] = False
    st.session_state[MESSAGE] = ngettext("Cleared {n} entry.", "Cleared {n} entries.", count).format(n=count)


def memory_parts(server_mb: float, stats) -> str:
    """What the memory figure adds up, process by process (PSS: shared pages counted once)."""
    parts = [_("web server {mb:,.0f} MB").format(mb=server_mb)]
    parts += [_("model process {pid}: {mb:,.0f} MB").format(pid=w.pid, mb=w.pss_mb) for w in stats.workers]
    if stats.template_mb:
        parts.append(_("the process they are forked from: {mb:,.0f} MB").format(mb=stats.template_mb))
    return _("Proportional set size (PSS), shared pages counted once: {parts}.").format(
        parts="; ".join(parts)
    )


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
            _("Trainings: {running} running and {stopping} stopping of {size}, {waiting} waiting").format(
                running=len(running) - stopping, stopping=stopping, size=pool.size, waiting=len(queued)
            )
        )
    else:
        st.subheader(
            _("Trainings: {running} running of {size}, {waiting} waiting").format(
                running=len(running), size=pool.size, waiting=len(queued)
            )
        )
    # (the job, its place: 0 running, -1 stopping, k the k-th in line)
    for place, job in [(-1 if j.stopping else 0, j) for j in running] + list(enumerate(queued, 1)):
        if job.owner:
            who = md_text(names.get(job.owner) or _("student {id}").format(id=job.owner[:6]))
        else:
            who = _("the server")
        since = now - (job.queued_at if place > 0 else job.started_at)
        words = [
            {-1: _("stopping"), 0: _("running")}.get(place) or _("{k}. in line").format(k=place),
            _("training") if job.kind == "training" else _(TASK_TITLES.get(job.name, job.name)),
            who,
            _("{seconds:.0f} s").format(seconds=since),
        ]
        if job.kind == "training" and place <= 0:
            snapshot = job.snapshot()
            words.append(
                _("epoch {epoch} of {epochs}, {percent:.0f}%").format(
                    epoch=snapshot.current_epoch, epochs=snapshot.epochs, percent=100 * snapshot.progress
                )
            )
        line, button = st.columns([5, 1], vertical_alignment="center")
        line.markdown("**{}** · {}".format(words[0], " · ".join(words[1:])))
        if button.button(
            _("Stop"),
            key=f"teacher.stop.{job.id}",
            icon=":material/stop:",
            disabled=job.stopping,  # asked already: it ends its batch and its test evaluation first
            help=_("Stopping: it ends its current batch and its test evaluation first.")
            if job.stopping
            else None,
        ):
            pool.cancel(job, reason=STOPPED_BY_TEACHER)
            st.rerun()
    stats = pool.stats(memory=True)
    server_mb = pss_mb(os.getpid())
    workers_mb = sum(w.pss_mb for w in stats.workers) + stats.template_mb  # the template's share too
    machine = psutil.virtual_memory()
    cpu = psutil.cpu_percent(interval=0.2)
    a, b, c = st.columns(3)
    a.metric(
        _("Memory: web server + workers"),
        f"{server_mb + workers_mb:,.0f} MB",
        help=memory_parts(server_mb, stats),
    )
    limits, plan = container_limits(), container_plan()
    if limits.memory_source == MACHINE:
        b.metric(
            _("Machine memory in use"),
            f"{machine.percent:.0f}%",
            help=_("of {total:.1f} GiB").format(total=machine.total / 2**30),
        )
    else:  # in a container: its own limit and its own count of what it uses
        used = read_limits().used_bytes  # now, not at start
        b.metric(
            _("Container memory in use"),
            "—"
            if used is None
            else _("{used:,.0f} of {limit:,.0f} MB").format(used=used / 2**20, limit=limits.memory_mb),
            help=_("The limit, from {source}.").format(source=source_words(limits.memory_source)),
        )
    c.metric(
        _("CPU (all cores)"),
        f"{cpu:.0f}%",
        help=_("{cores:.3g} cores, from {source}").format(
            cores=limits.cpus, source=source_words(limits.cpu_source)
        ),
    )
    setting = (
        _("Set by SIAMESE_LAB_MAX_TRAININGS.")
        if text_setting("SIAMESE_LAB_MAX_TRAININGS") is not None
        else _("Set SIAMESE_LAB_MAX_TRAININGS to choose another number.")
    )
    processes = _("Model processes: **{n}**; trainings at once: **{trainings}**.").format(
        n=len(pool.pids()), trainings=pool.size
    )
    st.caption(" ".join([processes, plan.reason, setting]))
    if waiting := stats.waiting_for_room:
        st.info(
            ngettext(
                "{n} model process is not started yet: it starts once the one before it is ready and about "
                "{mb:,.0f} MB are free in this server's memory. Meanwhile trainings wait in line; nothing "
                "is stopped.",
                "{n} model processes are not started yet: each starts once the one before it is ready and "
                "about {mb:,.0f} MB are free in this server's memory. Meanwhile trainings wait in line; "
                "nothing is stopped.",
                waiting,
            ).format(n=waiting, mb=stats.process_mb + HEADROOM_MB),
            icon=":material/hourglass_top:",
        )


st.title(_("Teacher"))
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
