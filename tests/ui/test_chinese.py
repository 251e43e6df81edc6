"""Every page in Chinese (issue 28): opened with ``?lang=zh``, fresh and with the guided lesson on,
no run of three or more English words is left outside code and names (tests/helpers.py,
``english_runs``); and the language stays the session's own across pages and a switch."""

from __future__ import annotations

import pytest

from siamese_ui.language import CHOSEN, LINK, SWITCH
from tests.helpers import app, english_runs, navigation_pages, shown_words

PAGES = navigation_pages()


def english_left(at) -> list[str]:
    return sorted({run for text in shown_words(at) for run in english_runs(text)})


@pytest.mark.parametrize("lesson", ["off", "on"])
@pytest.mark.parametrize("page", PAGES)
def test_the_page_is_in_chinese(page, lesson):
    at = app(page, {"lang": "zh", "lesson": lesson})
    assert not at.exception, [e.value for e in at.exception]
    left = english_left(at)
    assert not left, f"{page} with the lesson {lesson}: English left on a Chinese page: {left}"


def test_the_switch_changes_this_session_and_the_address_and_pages_keep_it():
    at = app("pages/about.py")
    assert at.session_state[CHOSEN] == "en" and at.title[0].value == "About and sources"
    at.sidebar.radio(key=SWITCH).set_value("zh").run()
    assert at.title[0].value == "关于与出处" and at.query_params[LINK] in ("zh", ["zh"])
    at.switch_page("pages/train.py").run()
    assert at.title[0].value == "训练" and at.session_state[CHOSEN] == "zh"
    other = app("pages/about.py")  # another student's session, at the same moment
    assert other.title[0].value == "About and sources"


def test_english_runs_finds_sentences_and_spares_code_and_names():
    assert english_runs("训练 the network twice") == ["the network twice"]
    assert english_runs("用 `model.count_params()` and `Dense` 计算") == []
    assert english_runs("*Dimensionality Reduction by Learning an Invariant Mapping*,CVPR 2006") == []
    assert english_runs("Siamese Lab 把五篇短文") == []
    assert english_runs("ROC 曲线, AUC") == []


@pytest.mark.parametrize("page", PAGES)
def test_after_a_language_switch_every_choice_is_sent_again_in_the_new_words(page):
    """A radio or select box keeps its value on the server through a language switch, but the
    browser held the option's old words, no longer among the translated options: Compare's Draw /
    Upload showed nothing selected (session 14's exploratory class). After the switch each choice
    must be sent again (``set_value``), as the option's new words."""
    at = app(page)
    choices = [w for kind in ("radio", "selectbox") for w in getattr(at.main, kind) if w.key]
    chosen = {w.key: w.value for w in choices if w.value is not None}
    at.sidebar.radio(key=SWITCH).set_value("zh").run()
    assert not at.exception, [e.value for e in at.exception]
    seen = 0
    for kind in ("radio", "selectbox"):
        for widget in getattr(at.main, kind):
            if widget.key in chosen:
                seen += 1
                assert widget.value == chosen[widget.key], widget.key  # the server kept the choice
                assert widget.proto.set_value, f"{page}: {widget.key} not sent again after the switch"
                assert widget.proto.raw_value == widget.proto.options[widget.index], widget.key
    assert seen == len(chosen), "a choice disappeared with the switch"


@pytest.mark.parametrize(
    ("page", "link", "language", "key", "value"),
    [
        ("train", {"train.distance": "欧式", "train.optimizer": "adam"}, "en", "train.distance", "euclidean"),
        ("train", {"train.distance": "euclidean"}, "zh", "train.distance", "euclidean"),
    ],
)
def test_a_link_made_in_one_language_opens_the_same_choices_in_the_other(page, link, language, key, value):
    """Streamlit writes a select box's shown words into the address: a link made in Chinese said
    train.distance=欧式, and opened in English it reset Distance to cosine (and the reverse)."""
    at = app(f"pages/{page}.py", {**link, "lang": language})
    assert not at.exception
    assert at.session_state[key] == value
    assert at.selectbox(key=key).value == value
