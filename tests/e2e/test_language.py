"""The language in real browsers (issue 28): a browser set to Chinese opens the app in Chinese, a
student's switch changes that student's pages only, and the choice survives the sidebar's links and
a reload."""

from __future__ import annotations

import time

import pytest

from .conftest import goto_nav, no_traceback, page_language, wait_idle

pytestmark = pytest.mark.browser

TITLE = "[data-testid='stMain'] h1"


def student(browser, url: str, locale: str):
    """A new browser context with its own ``navigator.language``: another student's laptop."""
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(300_000)
    page.goto(url)
    wait_idle(page, timeout=300)
    return context, page


def title(page) -> str:
    return page.locator(TITLE).first.inner_text().strip()


def sidebar_links(page) -> list[str]:
    # each link reads "<icon name>\n\n<title>": the title is its last line
    return [
        a.inner_text().strip().splitlines()[-1] for a in page.locator("[data-testid='stSidebarNav'] a").all()
    ]


def test_each_browser_keeps_its_own_language(browser, server):
    about = f"{server['url']}/about"
    zh_context, zh = student(browser, about, "zh-CN")
    en_context, en = student(browser, about, "en-US")
    try:
        assert title(zh) == "关于与出处" and "训练" in sidebar_links(zh)
        assert title(en) == "About and sources" and "Train" in sidebar_links(en)
        # the page's language for screen readers (WCAG 3.1.1)
        assert page_language(zh, "zh-CN") == "zh-CN"
        assert page_language(en, "en") == "en"

        # The Chinese student switches to English: only their page changes, and the address says so.
        zh.get_by_role("radiogroup", name="Language · 语言").get_by_text("English").click()
        time.sleep(0.5)
        wait_idle(zh)
        assert title(zh) == "About and sources" and "lang=en" in zh.url
        assert page_language(zh, "en") == "en"  # and the page's declared language follows
        en.reload()
        wait_idle(en)
        assert title(en) == "About and sources"

        # The English student switches to Chinese; the first student stays in English.
        en.get_by_role("radiogroup", name="Language · 语言").get_by_text("中文").click()
        time.sleep(0.5)
        wait_idle(en)
        assert title(en) == "关于与出处"
        zh.reload()
        wait_idle(zh)
        assert title(zh) == "About and sources"  # ?lang=en in the address wins over the browser

        # The choice travels with the sidebar's links and survives a reload.
        goto_nav(en, "训练")
        assert title(en) == "训练" and "lang=zh" in en.url
        en.reload()
        wait_idle(en)
        assert title(en) == "训练"
        for page in (zh, en):
            no_traceback(page)
    finally:
        zh_context.close()
        en_context.close()


def test_a_teachers_link_opens_in_the_class_language(browser, server):
    context, page = student(browser, f"{server['url']}/train?lang=zh", "en-US")
    try:
        assert title(page) == "训练" and "首页" in sidebar_links(page)
        no_traceback(page)
    finally:
        context.close()
