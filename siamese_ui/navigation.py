"""The app's pages, declared once (app.py's navigation, Home's "What each page teaches", the guided
lesson, the tests), and the one way the app's code changes page: ``switch_to``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

import streamlit as st

from siamese_core.i18n import N_, _


@dataclass(frozen=True)
class PageInfo:
    key: str  # the file's name in pages/ without ".py"; also the page's address (/weight_sharing)
    title: str  # as the sidebar names it, in English (marked with N_; shown through _(), or ``name``)
    icon: str
    teaches: str  # its row in Home's "What each page teaches" (English; shown through _())
    default: bool = False  # the page "/" opens

    @property
    def file(self) -> str:
        return f"pages/{self.key}.py"

    @property
    def name(self) -> str:
        """The title in the session's language, as the sidebar shows it."""
        return _(self.title)


PAGES: tuple[PageInfo, ...] = (
    PageInfo(
        "home",
        N_("Home"),
        ":material/home:",
        N_(
            "What a Siamese network is, the guided lesson, one-click presets for class, and what this server runs on."
        ),
        default=True,
    ),
    PageInfo(
        "weight_sharing",
        N_("Weight-sharing lab"),
        ":material/share:",
        N_(
            "One branch called twice vs. two branches: live parameter counts, the architecture graph, the Keras "
            "code, and the pitfall of a layer-building function called once per input."
        ),
    ),
    PageInfo(
        "train",
        N_("Train"),
        ":material/model_training:",
        N_(
            "Train a Siamese network on digit pairs with live loss and accuracy curves; start, pause, step, stop."
        ),
    ),
    PageInfo(
        "embeddings",
        N_("Embeddings"),
        ":material/scatter_plot:",
        N_("Where the digits land in embedding space, and how that space formed epoch by epoch."),
    ),
    PageInfo(
        "compare",
        N_("Compare"),
        ":material/compare:",
        N_(
            "Draw, upload or photograph two digits: what the network sees, its distance, the threshold, and its "
            "verdict."
        ),
    ),
    PageInfo(
        "oneshot",
        N_("Your own symbols"),
        ":material/draw:",
        N_("One example each of a few new shapes, then recognise new drawings of them: one-shot learning."),
    ),
    PageInfo(
        "evaluate",
        N_("Evaluate"),
        ":material/analytics:",
        N_("Distance histograms, the threshold trade-off, ROC, retrieval and one-shot accuracy."),
    ),
    PageInfo(
        "lessons",
        N_("More lessons"),
        ":material/school:",
        N_(
            "Composing an encoder and a decoder; transfer learning from a partial checkpoint with few labels; "
            "learning to rank image quality (RankIQA); exporting, importing and merging weights."
        ),
    ),
    PageInfo(
        "board",
        N_("Class board"),
        ":material/leaderboard:",
        N_(
            "The class's finished runs side by side, for the projector: students join with the teacher's class "
            "code and post their runs, and the board compares shared against unshared networks."
        ),
    ),
    PageInfo(
        "teacher",
        N_("Teacher"),
        ":material/admin_panel_settings:",
        N_(
            "Behind a PIN: open and close classes, tidy the board, and watch the server (the training queue, "
            "memory and CPU), with a Stop for a runaway run."
        ),
    ),
    PageInfo(
        "about",
        N_("About and sources"),
        ":material/menu_book:",
        N_("The posts and papers these lessons come from."),
    ),
)
BY_KEY: dict[str, PageInfo] = {page.key: page for page in PAGES}


def navigation_pages() -> list[st.Page]:
    """The table as Streamlit's navigation takes it (app.py), titled in the session's language.
    The address of each page is its key in every language (``url_path``), so links hold."""
    return [
        st.Page(page.file, title=page.name, icon=page.icon, url_path=page.key, default=page.default)
        for page in PAGES
    ]


def page_key(page: st.Page) -> str:
    """The key (``PageInfo.key``) of a page ``st.navigation`` returned: titles are unique in
    each language."""
    return {info.name: info.key for info in PAGES}[page.title]


def switch_to(page: str, query: Mapping[str, str] | None = None) -> NoReturn:
    """Go to a page (a key of BY_KEY), as a click on its sidebar link would, adding ``query`` to the
    address (the new page's own parameters, e.g. Home's preset for Train).

    Every ``st.switch_page`` of the app goes through here, because the plain call breaks the
    links: ``st.switch_page(page)`` with no ``query_params`` calls ``QueryParams.clear()``, which
    raises ("Cannot clear query parameters - the following are bound to widgets") as soon as a
    ``bind="query-params"`` widget on the page being left holds a non-default value (Streamlit
    1.67, commands/execution_control.py). With ``query_params`` it calls ``from_dict`` instead,
    which replaces the whole query string and checks only the keys it is given. So we hand it what
    a sidebar link would leave (a link keeps the address and Streamlit drops the parameters bound
    to the page being left, ``populate_from_query_string(valid_script_hashes)``): every parameter
    no widget holds (``?lesson=...``), and none of the bound ones. A bound widget's key is its
    session-state key, which is how they are told apart with public API only.
    """
    current = st.query_params
    kept: dict[str, str | list[str]] = {
        key: current.get_all(key) for key in current if key not in st.session_state
    }
    st.switch_page(BY_KEY[page].file, query_params={**kept, **(query or {})})


def resend_to_address(*keys: str) -> None:
    """Set bound fields' values again before their widgets are drawn, so that Streamlit writes them
    into the address bar from the server. Streamlit 1.67's browser side writes a bound widget's
    change into the address itself, but on the Train page it often stopped after the first change
    (an exploratory session; 3 of 5 tries of a shared-distance-shared-epochs sequence, none with
    this): "Share this setup: the address bar holds it" was then untrue, and a reload lost the
    changes. A value set through ``st.session_state`` is compared with the server's copy of the
    address and written (or, back at its default, removed) when they differ, the public path
    Streamlit gives for it (``SessionState.register_widget``; streamlit/streamlit#14744); when
    they agree nothing is sent. Not on a session's first run: the address has just set them."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
