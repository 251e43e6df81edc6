"""WCAG 2.1 A and AA on every page, checked by axe-core in Chromium: each page fresh in English, and
each page in Chinese with the guided lesson on (its box at the top; the page's language declared). The states a class reaches (a run going and
stopped, a race result, a photo and the twins on Compare, a gallery, a posted board, the projector,
the Teacher page unlocked) are checked where the browser tests reach them, with
``assert_accessible`` from conftest.py."""

from __future__ import annotations

import pytest

from siamese_ui.navigation import PAGES

from .conftest import assert_accessible, no_traceback, page_language, wait_idle

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("info", PAGES, ids=[p.key for p in PAGES])
def test_the_page_meets_wcag_aa_fresh_and_with_the_lesson_on(page, info):
    path = "/" + ("" if info.default else info.key)
    page.goto(page.base_url + path)
    wait_idle(page)
    no_traceback(page)
    assert_accessible(page, f"{info.title}, fresh")
    page.goto(page.base_url + path + "?lesson=on&lang=zh")
    wait_idle(page)
    page.get_by_text("引导课程").first.wait_for()
    no_traceback(page)
    assert page_language(page, "zh-CN") == "zh-CN"
    assert_accessible(page, f"{info.title}, in Chinese, the guided lesson on")
