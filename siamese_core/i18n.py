"""One gettext for the whole code base, and one language per session.

Every sentence a student or teacher reads is written in English in the code and wrapped in
``_()`` (or ``ngettext()`` where it counts something); Babel extracts them into
``siamese_core/locales/messages.pot`` and the Chinese lives in
``siamese_core/locales/zh_CN/LC_MESSAGES/messages.po`` (README, "Languages", says how to add a
third). A sentence defined at import time (a table of pages, a glossary) is marked with ``N_()``,
which only marks it for extraction, and is translated with ``_()`` where it is shown.

Streamlit runs every student's session in one process, so the language cannot be process-wide
(``gettext.install()`` would switch the whole class at once). ``_()`` asks a *source* which
language the caller wants: the UI installs one that reads the current session's choice
(``siamese_ui/language.py``); without one (the core's own tests, a worker process, a benchmark)
it is English. The catalogues are read once per process and shared: a translation is immutable.

The core never imports Streamlit: the source is a plain callable handed in from the UI.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Literal, get_args

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT: Language = "en"  # the language the code is written in
# The gettext name of each language's catalogue (the folder under locales/): Simplified Chinese.
CATALOGUE: dict[Language, str] = {"en": "en", "zh": "zh_CN"}
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"


def _english() -> Language:
    return DEFAULT


_source: Callable[[], Language] = _english


def use_language_source(source: Callable[[], Language] | None) -> None:
    """Where ``_()`` learns the caller's language (the UI's per-session choice); None for English."""
    global _source
    _source = source or _english


def current_language() -> Language:
    try:
        language = _source()
    except Exception:  # a source that cannot answer here (no session): the code's own language
        return DEFAULT
    return language if language in LANGUAGES else DEFAULT


@cache
def translations(language: Language) -> gettext.NullTranslations:
    """The compiled catalogue for a language (English: the messages as written)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[CATALOGUE[language]], fallback=True)


def _(message: str) -> str:
    """``message`` in the caller's language (the message itself where no translation exists)."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form for ``n`` of a counted message ("1 pair", "2 pairs"; Chinese has one form)."""
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it: for text defined at import time,
    translated with ``_()`` where it is shown."""
    return message


def in_language(language: Language, message: str) -> str:
    """``message`` in a named language, whatever the caller's (the tests, the README's examples)."""
    return translations(language).gettext(message)


def shown_as(labels: Mapping | None = None) -> Callable[[object], str]:
    """A widget's ``format_func``: each option's English label (``labels[value]``, or the value
    itself) in the language of the caller *now*. The language is fixed when the widget is drawn
    because Streamlit's AppTest (and anything else outside the script run) calls ``format_func``
    later, where no session is known and ``_()`` would answer in English."""
    language = current_language()
    return lambda value: in_language(language, labels[value] if labels is not None else str(value))
