"""Class board: the class's finished runs side by side, for the projector; students join their
teacher's class with its code and post their own runs (their facts read from the session)."""

from __future__ import annotations

import streamlit as st

from siamese_core.i18n import _
from siamese_core.serving.board import BoardError, BoardUnavailable, ClassInfo, clean_code, clean_nickname
from siamese_ui.board import (
    BOARD_CODE,
    CHART_CAPTION,
    PROJECTOR,
    PROJECTOR_FONT_PX,
    REFRESH_SECONDS,
    SOLO_NICKNAME,
    SOLO_NICKNAME_BOX,
    board_figure,
    describe,
    entry_columns,
    entry_table,
    gap_columns,
    gap_table,
    joined,
    keep_solo_nickname,
    md_text,
    open_board,
    postable_runs,
    posted_where,
    projector_wanted,
    remember_class,
    shown_gaps,
    summary_columns,
    summary_sentence,
    summary_table,
    target_class,
)
from siamese_ui.charts import chart
from siamese_ui.patches import route_first_deep_link_through_app
from siamese_ui.student import student_id

route_first_deep_link_through_app()  # a fresh server's first visit by this page's address skips app.py

MESSAGE = "board.message"
UNKNOWN_ICON = ":material/search_off:"  # a code no class has: the student's typo, not the network
OFFLINE_ICON = ":material/cloud_off:"  # the database cannot be reached


def error_icon(error: BoardError) -> str:
    return OFFLINE_ICON if isinstance(error, BoardUnavailable) else UNKNOWN_ICON


def class_ui() -> str | None:
    """The class code box (kept in the link); returns the valid code, or None for the student's own board."""
    raw = st.text_input(
        _("Class code"),
        key=BOARD_CODE,
        bind="query-params",
        placeholder="K7QX2M",
        max_chars=12,
        help=_(
            "The 6-character code your teacher shows; the board remembers the class you joined, also after "
            "a reload. Empty the box for your own board (only you see it)."
        ),
    )
    if not raw.strip():
        return None
    try:
        return clean_code(raw)
    except BoardError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()


def join_ui(store, info: ClassInfo, nickname: str | None) -> None:
    if info.solo:
        st.caption(
            _(
                "This is **your own board**: only you see it. To share runs with a class, type your teacher's "
                "class code above."
            )
        )
        return
    if nickname:
        st.success(
            _("You are in **{name}** ({code}) as **{nickname}**.").format(
                name=md_text(info.name), code=info.code, nickname=md_text(nickname)
            ),
            icon=":material/groups:",
        )
        return
    if not info.open:
        st.warning(_("The class {code} is closed: it takes no new members or runs.").format(code=info.code))
        return
    with st.form("board.join", border=True):
        st.markdown(
            _("Join **{name}** ({code}) to post your runs to its board.").format(
                name=md_text(info.name), code=info.code
            )
        )
        typed = st.text_input(
            _("Your nickname"),
            key="board.nickname",
            max_chars=24,
            help=_("What the class sees next to your runs: 1 to 24 letters, digits, signs or spaces."),
        )
        if st.form_submit_button(_("Join the class"), key="board.join_button", icon=":material/login:"):
            try:
                store.join(info.code, student_id(), typed)
                joined()[info.code] = clean_nickname(typed)
                st.rerun()
            except BoardError as error:
                st.error(str(error), icon=":material/error:")


def post_help(info: ClassInfo) -> str:
    if info.solo:  # its stored name is English: said in the session's language
        return _("Post this run to your own board")
    return _("Post this run to {name}").format(name=md_text(info.name))


def post_ui(store, info: ClassInfo, nickname: str | None) -> None:
    """The session's finished runs, each with its Post button (once per run)."""
    runs = postable_runs()
    st.subheader(_("Your finished runs"))
    if message := st.session_state.pop(MESSAGE, None):
        getattr(st, message[0])(message[1])
    if not runs:
        st.info(
            _(
                "Nothing to post yet: finish a training on the **Train** page (or race shared against unshared "
                "on the **Weight-sharing lab**) and it appears here. Its numbers come from your run, never "
                "typed in. A run waits here while one of your tabs of this app stays open: once every tab is "
                "closed, a run not posted is gone."
            ),
            icon=":material/info:",
        )
        return
    if info.solo and not nickname:
        st.text_input(
            _("Your nickname on your own board"),
            key=SOLO_NICKNAME_BOX,
            max_chars=24,
            on_change=keep_solo_nickname,
        )
        nickname = st.session_state.get(SOLO_NICKNAME)
    elif not info.solo and not nickname:
        st.caption(_("Join the class above to post."))
    try:
        posted = store.posted([run.run_id for run in runs])
    except BoardUnavailable as error:
        st.error(str(error), icon=OFFLINE_ICON)
        return
    for run in runs:
        line, button = st.columns([5, 1], vertical_alignment="center")
        line.markdown(describe(run))
        if run.run_id in posted:
            where = posted[run.run_id]
            said = posted_where(store, where, info)
            button.markdown(
                f":material/block: {said}" if where.removed else f":green[:material/check: {said}]"
            )
        elif button.button(
            _("Post"),
            key=f"board.post.{run.run_id}",
            icon=":material/publish:",
            disabled=not nickname or not info.open,
            help=post_help(info) if nickname else _("Join the class first."),
        ):
            try:
                store.post(info.code, student_id(), run, nickname=nickname)
                posted = (
                    _("Posted to your own board.")
                    if info.solo
                    else _("Posted to {name}.").format(name=md_text(info.name))
                )
                st.session_state[MESSAGE] = ("success", posted)
            except BoardError as error:
                st.session_state[MESSAGE] = ("error", str(error))
            st.rerun()


def live_board(code: str, big: bool) -> None:
    """The board itself, redrawn every few seconds (the class posts while it is on the projector)."""
    try:
        store = open_board()
        info = store.class_info(code)
        entries = store.entries(code)
    except BoardError as error:
        st.error(str(error), icon=error_icon(error))
        return
    if info.solo:
        title = _("Your own board") if info.open else _("Your own board (closed)")
    elif info.open:
        title = _("{name} · class code {code}").format(name=md_text(info.name), code=info.code)
    else:
        title = _("{name} · class code {code} (closed)").format(name=md_text(info.name), code=info.code)
    st.subheader(title)
    if not entries:
        st.info(_("No runs on this board yet. They appear here within seconds of being posted."))
        return
    st.markdown(summary_sentence(entries))
    figure = board_figure(entries)
    if big:  # the projector: the plot is what the room reads, from the back row
        # each element's size set on its own: Streamlit's chart theme overrides the layout's font
        # for the axes (checked in Chromium: ticks stayed at 12 px)
        figure.update_layout(height=560, legend_font_size=PROJECTOR_FONT_PX)
        figure.update_xaxes(tickfont_size=PROJECTOR_FONT_PX, title_font_size=PROJECTOR_FONT_PX)
        figure.update_yaxes(tickfont_size=PROJECTOR_FONT_PX, title_font_size=PROJECTOR_FONT_PX)
        figure.update_traces(textfont_size=PROJECTOR_FONT_PX)
    chart(
        figure,
        _(CHART_CAPTION),
        key="board.figure",
        table_on_page=True,  # "Every run", under it
        config={"displayModeBar": False},
    )
    # one table under the other: side by side, the accuracy columns were cut off at 1400 px
    st.markdown(_("**Every run**"))
    st.dataframe(entry_table(entries), width="stretch", hide_index=True, column_config=entry_columns())
    st.markdown(_("**Per setup**"))
    st.dataframe(summary_table(entries), width="stretch", hide_index=True, column_config=summary_columns())
    if gaps := shown_gaps(entries):
        st.markdown(_("**Shared against unshared, setup by setup** (only setups that have both)"))
        st.dataframe(gap_table(gaps), width="stretch", hide_index=True, column_config=gap_columns())


def board_controls() -> str | None:
    """The Projector switch and the class code box; returns the valid code (None: own board)."""
    wanted = st.toggle(
        _("Projector view"),
        key=PROJECTOR,
        bind="query-params",
        help=_("Only the board, for the projector: no forms, no sidebar."),
    )
    if wanted != projector:
        st.rerun()  # the switch says otherwise (a first run without the link's value): draw that view
    return class_ui()


try:
    store = open_board()
except BoardError as error:
    st.title(_("Class board"))
    st.error(str(error), icon=error_icon(error))
    st.stop()
remember_class(store)  # a reload or a new tab finds the class this student joined
projector = projector_wanted()
if projector:
    # the board alone: the sidebar folded, the switch and the code box folded away at the bottom
    st.set_page_config(initial_sidebar_state="collapsed")
    board_area, controls = (
        st.container(),
        st.expander(_("Leave the projector view, or show another class"), icon=":material/tune:"),
    )
else:
    st.set_page_config(initial_sidebar_state="auto")
    st.title(_("Class board"))
    controls, board_area = st.container(), st.container()
with controls:
    code = board_controls()
try:
    info, nickname = target_class(store, code)
except BoardError as error:
    board_area.error(str(error), icon=error_icon(error))
    st.stop()
with board_area:
    if not projector:
        join_ui(store, info, nickname)
        post_ui(store, info, nickname)
        st.divider()
    st.fragment(live_board, run_every=REFRESH_SECONDS)(info.code, projector)
