"""The session's language: chosen from the browser on the first visit, from a link's ``?lang=``,
or with the sidebar's switch; kept across pages and reloads; one student's choice never changes
another's page (``siamese_core/i18n.py`` explains why the translator is per session).

Like the lesson's switch (``siamese_ui/lesson.py``), the choice is a plain session value that the
switch mirrors, and the address carries it as an unbound parameter (``?lang=zh``) once a link or
the switch has set it: it travels with ``switch_to`` and the sidebar's links, a reload finds it,
and a copied link opens in the same language. A first visit without it asks the browser
(``st.context.locale``, ``navigator.language``), so a reload without the parameter gives the same
answer.
"""

from __future__ import annotations

import streamlit as st

from siamese_core.i18n import DEFAULT, LANGUAGES, Language, use_language_source

from .patches import in_script_run

CHOSEN = "lang.chosen"  # the session's language: a plain session value, kept across pages
SWITCH = "lang.switch"  # the sidebar switch's key; it shows CHOSEN and sets it
LINK = "lang"  # the link's query parameter: ?lang=zh or ?lang=en
LINK_READ = "lang.link_read"  # the link's value already applied in this session
# Each language named in itself, so a student who cannot read the page's language finds their own.
NAMES: dict[Language, str] = {"en": "English", "zh": "中文"}
# The page's language for the browser and screen readers (WCAG 3.1.1): a Chinese page read with an
# English voice is noise. BCP 47 tags.
HTML_LANG: dict[Language, str] = {"en": "en", "zh": "zh-CN"}


def from_locale(locale: str | None) -> Language:
    """The app's language for a browser's ``navigator.language`` ("zh-CN", "zh-Hans-SG", "en-GB")."""
    if locale and locale.replace("_", "-").lower().split("-")[0] == "zh":
        return "zh"
    return DEFAULT


def session_language() -> Language:
    """The language ``_()`` translates into for the session running this thread (English in a
    thread that runs no session, and before the session has chosen)."""
    if not in_script_run():
        return DEFAULT
    language = st.session_state.get(CHOSEN, DEFAULT)
    return language if language in LANGUAGES else DEFAULT


def _browser_locale() -> str | None:
    try:
        return st.context.locale
    except Exception:  # no browser behind this run (AppTest)
        return None


def _choose() -> Language:
    """The session's language before the switch is drawn: a link's new value wins, then the
    session's own choice, then the browser's."""
    wanted = st.query_params.get(LINK)
    if wanted in LANGUAGES and st.session_state.get(LINK_READ) != wanted:
        st.session_state[LINK_READ] = wanted
        if st.session_state.get(CHOSEN, wanted) != wanted:
            resend_choices()  # a link in another language, opened in this session
        st.session_state[CHOSEN] = wanted
    if CHOSEN not in st.session_state:
        st.session_state[CHOSEN] = from_locale(_browser_locale())
    chosen = st.session_state[CHOSEN]
    # A sidebar link opens the next page without the address's parameters: once a link or the
    # switch has chosen, every page writes the choice back, as the lesson writes its step.
    if st.session_state.get(LINK_READ) and st.query_params.get(LINK) != chosen:
        st.query_params[LINK] = chosen
    return chosen


def _switched() -> None:
    chosen = st.session_state[SWITCH]
    st.session_state[CHOSEN] = chosen
    st.session_state[LINK_READ] = chosen  # our own word: not a link to apply again
    st.query_params[LINK] = chosen  # a reload and a copied link keep it
    resend_choices()


def resend_choices() -> None:
    """After a language change, before the page draws its widgets: every choice is set again to
    the value it has. A radio or select box keeps its value on the server, but the browser keeps the
    option's shown words, which are no longer among the options once they are translated: the
    group showed nothing selected (Compare's Draw / Upload, the exploratory class of session 14).
    Set through the Session State API, Streamlit sends the value again, in the new words. Only
    string values: the app's choices are string keys, and the widgets that refuse the API
    (buttons, uploaders, the camera) hold none."""
    for key in list(st.session_state):
        value = st.session_state[key]
        if isinstance(value, str) and not str(key).startswith("$$"):
            st.session_state[key] = value


def language_switch() -> Language:
    """Install the per-session translator, settle the session's language and draw the sidebar's
    switch (app.py, before the navigation, so that the page titles are in it too)."""
    use_language_source(session_language)
    language = _choose()
    st.session_state[SWITCH] = language
    st.sidebar.radio(
        "Language · 语言",
        LANGUAGES,
        format_func=NAMES.__getitem__,
        key=SWITCH,
        horizontal=True,
        on_change=_switched,
    )
    # Drawn on every run, so no element appears or disappears around the widgets (the keyboard test).
    st.sidebar.html(
        f"<script>document.documentElement.lang = {HTML_LANG[language]!r};</script>",
        unsafe_allow_javascript=True,
    )
    return language
