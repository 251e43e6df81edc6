"""The translation catalogues (issue 28): every message in the code has a Chinese translation, the
translations keep the code's placeholders, and the committed .mo is the compiled .po.

Run ``python tools/translations.py update`` after changing a message (README, "Languages")."""

from __future__ import annotations

import gettext
import io
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from siamese_core import i18n

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "siamese_core" / "locales"
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


def _method_map() -> list[tuple[str, str]]:
    """babel.cfg's sections, as Babel's extractor takes them."""
    return [
        (line.strip()[1:-1].split(":", 1)[1].strip(), "python")
        for line in (ROOT / "babel.cfg").read_text().splitlines()
        if line.startswith("[python:")
    ]


def _code_messages() -> dict[str, str]:
    """msgid → the file and line that use it, extracted from the code as pybabel would."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=_method_map(), keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def _catalogue(language: str = "zh_CN"):
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def _fields(text: str) -> set[str]:
    """The ``str.format`` fields of a message ({name}, {count:,}) by name."""
    try:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError as error:  # an unbalanced brace: the message cannot be formatted at all
        return {f"<unparsable: {error}>"}


def test_every_message_in_the_code_has_a_chinese_translation():
    catalogue = _catalogue()
    missing, empty = [], []
    for msgid, where in _code_messages().items():
        message = catalogue.get(msgid)
        if message is None:
            missing.append(f"{where}: {msgid[:70]!r}")
        elif not (all(message.string) if isinstance(message.string, tuple) else message.string):
            empty.append(f"{where}: {msgid[:70]!r}")
        elif message.fuzzy:
            empty.append(f"{where} (fuzzy: never shown): {msgid[:70]!r}")
    assert not missing, "not in the catalogue (run tools/translations.py update):\n" + "\n".join(missing)
    assert not empty, "no Chinese yet:\n" + "\n".join(empty)


def test_translations_keep_the_placeholders_and_the_markup():
    """A translation that drops or renames ``{accuracy}`` raises KeyError on the student's page."""
    wrong = []
    for message in _catalogue():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(_fields(i) for i in ids))
        for text in strings:
            if _fields(text) != wanted:
                wrong.append(f"{ids[0][:60]!r}: fields {sorted(_fields(text))} for {sorted(wanted)}")
            for mark in ("**", "`"):
                if ids[0].count(mark) != text.count(mark):
                    wrong.append(f"{ids[0][:60]!r}: {mark} {text.count(mark)} times for {ids[0].count(mark)}")
    assert not wrong, "\n".join(wrong)


def test_the_committed_mo_is_the_compiled_po():
    catalogue = _catalogue()
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with (LOCALES / "zh_CN" / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        committed = gettext.GNUTranslations(f)
    assert committed._catalog == fresh._catalog, "run: python tools/translations.py compile"


def test_chinese_has_one_plural_form_and_english_two():
    assert _catalogue().num_plurals == 1
    assert i18n.translations("en").ngettext("{n} pair", "{n} pairs", 1) == "{n} pair"
    assert i18n.translations("en").ngettext("{n} pair", "{n} pairs", 2) == "{n} pairs"


def test_the_language_comes_from_the_source_and_falls_back_to_english():
    try:
        i18n.use_language_source(lambda: "zh")
        assert i18n._("Train") == "训练"
        i18n.use_language_source(lambda: "fr")  # not a language of the app
        assert i18n._("Train") == "Train"

        def broken():
            raise RuntimeError("no session here")

        i18n.use_language_source(broken)
        assert i18n._("Train") == "Train"
    finally:
        i18n.use_language_source(None)
    assert i18n._("Train") == "Train" and i18n.in_language("zh", "Train") == "训练"


@pytest.mark.parametrize(
    "locale, language",
    [
        ("zh-CN", "zh"),
        ("zh", "zh"),
        ("zh-Hans-SG", "zh"),
        ("zh_TW", "zh"),
        ("en-US", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_the_browsers_language_picks_the_apps(locale, language):
    from siamese_ui.language import from_locale

    assert from_locale(locale) == language


def test_the_glossary_of_terms_lists_the_source_posts_words():
    """docs/glossary.zh.md names the terms the translation uses; the key ones from the posts."""
    text = (ROOT / "docs" / "glossary.zh.md").read_text()
    for term in ("孪生网络", "权值共享", "对比损失", "嵌入", "阈值", "欧式距离", "样本对", "迁移学习"):
        assert re.search(rf"\|\s*[^|]*{term}", text), term
    catalogue = _catalogue()
    for english, chinese in (("Train", "训练"), ("Weight-sharing lab", "权值共享实验")):
        assert catalogue.get(english).string == chinese


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en_US"])
def test_python_number_formats_are_the_locales_own(locale):
    """The pages format numbers with Python's specs ({n:,}, {x:.3f}, {p:.2%}); CLDR (through Babel)
    writes them the same way in Simplified Chinese as in English, so one format serves both."""
    from babel.numbers import format_decimal, format_percent

    for n in (7, 1_234, 1_234_567, 56_797_194):
        assert f"{n:,}" == format_decimal(n, locale=locale)
    for x in (0.5, 0.213, 12.3456):
        assert f"{x:.3f}" == format_decimal(x, format="0.000", locale=locale)
    for p in (0.9745, 0.5, 1.0):
        assert f"{p:.2%}" == format_percent(p, format="0.00%", locale=locale)


def test_a_format_func_keeps_the_language_it_was_drawn_in():
    """AppTest calls format_func outside the script run: the label must not fall back to English."""
    try:
        i18n.use_language_source(lambda: "zh")
        label = i18n.shown_as({"t": "Train"})
        plain = i18n.shown_as()
    finally:
        i18n.use_language_source(None)
    assert label("t") == "训练" and plain("Train") == "训练" and plain("mnist") == "mnist"
    assert i18n.shown_as({"t": "Train"})("t") == "Train"  # drawn in English
