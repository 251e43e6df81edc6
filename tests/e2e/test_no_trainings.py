"""A server that trains nothing (a container too small for a training, or a teacher's
SIAMESE_LAB_MAX_TRAININGS=0), for real: one model-service process still starts and answers the
pages (Compare's verdict, the lab's numbers, Evaluate), the Train page says in one sentence why it
cannot train and offers no Start, and the web server never loads TensorFlow (stop_server checks)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import children

from .conftest import goto_nav, no_traceback, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def small_server():
    s = start_server(log_name="server-no-trainings.log", env={"SIAMESE_LAB_MAX_TRAININGS": "0"})
    yield s
    stop_server(s)


def service_processes(pid: int) -> list[int]:
    """The model processes the server started: forked by its template process (Linux), or
    started on their own (elsewhere, or with SIAMESE_LAB_FORK_WORKERS=0)."""

    def command(p: int) -> str:
        return Path(f"/proc/{p}/cmdline").read_text()

    found = []
    for c in children(pid):
        if "siamese_core.serving.template" in command(c):
            found += children(c)
        elif "siamese_core.serving.worker" in command(c):
            found.append(c)
    return found


def test_a_server_without_trainings_still_answers_every_page(browser, small_server):
    page = browser.new_context(viewport={"width": 1400, "height": 1200}).new_page()
    page.set_default_timeout(120_000)
    url = small_server["url"]
    page.goto(url + "/train")
    wait_idle(page)
    main = page.get_by_test_id("stMainBlockContainer")
    main.get_by_text("This server runs no trainings").first.wait_for()
    assert not main.get_by_role("button", name="Start", exact=True).is_enabled()
    no_traceback(page)
    goto_nav(page, "Compare")
    for k in range(2):
        page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(k).get_by_text(
            "Test digit"
        ).click()
        wait_idle(page)
    main.get_by_text(re.compile("Same digit|Different digits")).first.wait_for(timeout=120_000)
    no_traceback(page)
    goto_nav(page, "Evaluate")
    page.get_by_test_id("stMetricLabel").filter(has_text="Accuracy").first.wait_for()
    no_traceback(page)
    goto_nav(page, "Weight-sharing lab")
    main.get_by_text("count_params()").first.wait_for()
    no_traceback(page)
    assert len(service_processes(small_server["proc"].pid)) == 1  # one process answers, none trains
