"""The Train page's form state, which Home's preset buttons also set: every configuration field
is one widget whose key is also the link's query parameter (``bind="query-params"``), except the
seed, which is each student's own and which the link always carries (see :func:`seed_widget`)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from siamese_core.config import LABELS, MAX_SEED, PRESETS, SiameseConfig
from siamese_core.i18n import LANGUAGES, N_, Language, _, current_language, in_language

FORM = "train."  # widget key prefix: train.preset, train.epochs, ... (also the link's parameters)
PRESET = FORM + "preset"
SEED = FORM + "seed"
FIELDS = tuple(f.name for f in dataclasses.fields(SiameseConfig))
# Each student's own seed is below this: short enough to read out in class, and two of 30
# students share one with a chance of about 0.4% (30 · 29 / 2 / 100,000).
STUDENT_SEEDS = 100_000
# The choices of the form that are words, each shown in the reader's language (the value, the
# link's parameter, stays); the others (mnist, cnn, adam, keras-example) are names.
OPTION_WORDS = (N_("auto"), N_("distance"), N_("euclidean"), N_("cosine"), N_("balanced"))


def option_label(value, language: Language | None = None) -> str:
    """A choice of the form as the reader reads it (the Train form's boxes, the settings sentence),
    in ``language`` (default: the caller's)."""
    if value not in OPTION_WORDS:
        return str(value)
    return in_language(language, value) if language else _(value)


def option_from_link(word: str, options) -> Any | None:
    """The option a link's word names, in any of the app's languages, or None. Streamlit writes a
    select box's shown words into the address, so a link made in Chinese says "欧式" where one made
    in English says "euclidean"; Streamlit itself reads back only the reader's own words, and a
    link opened in the other language silently lost the setting (an exploratory session)."""
    for value in options:
        if word == str(value) or any(word == option_label(value, language) for language in LANGUAGES):
            return value
    return None


def choice_widget(label: str, options, default, key: str, help: str):
    """A select box of the form whose link holds the option itself ("euclidean"), whatever the
    reader's language. Not bound to the link like the other fields: Streamlit writes a bound
    select box's shown words (train.distance=欧式 from a Chinese page), reads back only the
    reader's own, and drops any other word from the address, so a link opened in the other language
    showed Distance right once and a reload went back to cosine (two exploratory sessions). Here
    the link's word in any language (:func:`option_from_link`), or else ``default`` (the preset's),
    fills the box once; every run writes its option into the address, or leaves it out while it
    is the default, as Streamlit does for a bound widget."""
    if key not in st.session_state:
        word = st.query_params.get(key)
        chosen = option_from_link(word, options) if word is not None else None
        st.session_state[key] = default if chosen is None else chosen
    value = st.selectbox(
        label, options, key=key, format_func=option_labels(), help=help, persist_state="session"
    )
    word = None if value == default else str(value)
    if st.query_params.get(key) != word:
        if word is None:
            del st.query_params[key]
        else:
            st.query_params[key] = word
    return value


def translated_choice(options) -> bool:
    """Does the reader read any of these options in their own words (:data:`OPTION_WORDS`)?"""
    return any(value in OPTION_WORDS for value in options)


def option_labels() -> Callable[[Any], str]:
    """A select box's ``format_func`` in this run's language, fixed now: Streamlit (and AppTest)
    may call it later, outside the script run, where ``_()`` would answer in English."""
    language = current_language()
    return lambda value: option_label(value, language)


def student_seed(student: str) -> int:
    """The seed a student starts from: a hash of their browser's student id, so it stays the same
    across reloads and tabs, and two students almost never share one."""
    digest = hashlib.sha256(f"siamese-lab seed {student}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % STUDENT_SEEDS


def seed_from_text(text) -> int | None:
    """A link's seed, or None when there is none or the form would not take it."""
    try:
        seed = int(str(text))
    except ValueError:
        return None
    return seed if 0 <= seed <= MAX_SEED else None


def seed_note(seed: int | None, own: int) -> str:
    """The sentence under the form: whose seed this is, and that the link carries it."""
    if seed == own:
        return _(
            "Your seed is {seed}, made from this browser's student id: every student starts the same "
            "setup from their own seed, so the class's runs show how much a result owes to chance. "
            "The address bar carries it, so a shared link reopens this very run."
        ).format(seed=seed)
    if seed is None:
        return _("Type a seed from 0 to {most:,}; your own seed is {own}.").format(most=MAX_SEED, own=own)
    return _(
        "This run uses seed {seed}, from a link or typed in; your own seed is {own}. "
        "The address bar carries it, so a shared link reopens this very run."
    ).format(seed=seed, own=own)


def seed_widget(label: str, help: str, own: int) -> int | None:
    """The seed field. Not bound to the link like the other fields: Streamlit 1.67 leaves a bound
    widget's parameter out of the address bar while it holds its default, and does not write a
    value set through ``st.session_state`` before the widget's first run at all, so a link would
    often lack the seed, and a student opening it would train their own seed instead. Here the
    link's seed (or else the student's own) fills the field once, and every run writes the
    field's value into the address bar."""
    if SEED not in st.session_state:
        from_link = seed_from_text(st.query_params.get(SEED))
        st.session_state[SEED] = own if from_link is None else from_link
    seed = st.number_input(
        label, min_value=0, max_value=MAX_SEED, step=1, key=SEED, help=help, persist_state="session"
    )
    if seed is not None and st.query_params.get(SEED) != str(seed):
        st.query_params[SEED] = str(seed)
    return seed


def load_preset(name: str) -> None:
    """Fill every field from a preset, discarding edits: the Preset box and Home's buttons.
    The seed stays: it is the student's, not the preset's (one seed for the whole class gave
    every student's run of a preset exactly the same figures)."""
    st.session_state[PRESET] = name
    for field in FIELDS:
        if FORM + field == SEED:
            continue
        value = getattr(PRESETS[name], field)
        st.session_state[FORM + field] = list(value) if field == "held_out_classes" else value


def nearest_preset(config: SiameseConfig) -> str:
    """The preset a configuration differs from in the fewest fields (the first such, in order)."""
    differences = {
        name: sum(getattr(p, f) != getattr(config, f) for f in FIELDS) for name, p in PRESETS.items()
    }
    return min(differences, key=differences.get)


def _link_text(value) -> str | list[str]:
    """A field's value as the address holds it, read back by Streamlit's bound widgets
    (``runtime/state/query_params.py``): true/false, repeated parameters for a list ("" for none)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return [str(v) for v in value] or ""
    return str(value)


def run_link(config: SiameseConfig) -> dict[str, str | list[str]]:
    """The Train page's address parameters for a run's own settings: the preset it differs from
    least, every field that differs from that preset, and the seed, as a link made on the page
    holds them. A reload or a bare address (the sidebar's) that finds the student's run opens this,
    so that the form, the address and the run on screen agree, and a reload or a shared link keeps
    them (Streamlit writes a value set through Session State into the address only for a widget
    drawn in an earlier client-requested run, so filling the form alone left the address bare)."""
    name = nearest_preset(config)
    query: dict[str, str | list[str]] = {PRESET: name}
    for field in FIELDS:
        value = getattr(config, field)
        if FORM + field == SEED:
            query[SEED] = str(value)
        elif value != getattr(PRESETS[name], field):
            query[FORM + field] = _link_text(value)
    return query


def _shown(value) -> str:
    if isinstance(value, bool):
        return _("on") if value else _("off")
    if isinstance(value, tuple):
        return ", ".join(map(str, value)) or _("none")
    return f"{value:g}" if isinstance(value, float) else option_label(value)


def settings_differ(run: SiameseConfig, form: SiameseConfig) -> str:
    """A sentence when the run on screen was trained with other settings than the form now holds
    (a classmate's link opened after one's own run), naming each; "" when they agree."""
    changed = [
        _("{setting} {run} (the form: {form})").format(
            setting=_(LABELS[name]), run=_shown(getattr(run, name)), form=_shown(getattr(form, name))
        )
        for name in FIELDS
        if getattr(run, name) != getattr(form, name)
    ]
    if not changed:
        return ""
    return _(
        "The result below is from your earlier run, trained with other settings than the form shows: "
        "{settings}. Press **Start** to train the form's settings."
    ).format(settings=_("; ").join(changed))  # the list's separator, in the reader's punctuation
