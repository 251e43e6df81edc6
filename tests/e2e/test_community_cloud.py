"""The app under the settings Community Cloud forces on every app (its docs, "App settings"):
no error details for viewers, fast reruns, run on save, and XSRF protection (which every upload
must pass). One class's path through it: a training, a verdict from two test digits, a photo
uploaded, the run posted to the student's own board, and every page opened without an error."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest

from siamese_ui.navigation import PAGES
from tests.helpers import TINY

from .conftest import goto_nav, no_traceback, shot, start_server, stop_server, wait_idle
from .test_photos import a_test_digit, jpeg_file, paper_photo

pytestmark = pytest.mark.browser

CLOUD = (
    "--client.showErrorDetails",
    "false",
    "--runner.fastReruns",
    "true",
    "--server.runOnSave",
    "true",
    "--server.enableXsrfProtection",
    "true",
)


@pytest.fixture(scope="module")
def cloud_server():
    server = start_server(*CLOUD, log_name="community-cloud.log")
    yield server
    stop_server(server)


def test_a_class_path_under_community_clouds_settings(browser, cloud_server, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1200})
    page = context.new_page()
    page.set_default_timeout(120_000)
    main = page.get_by_test_id("stMainBlockContainer")
    try:
        for info in PAGES:  # every page opens
            page.goto(cloud_server["url"] + "/" + ("" if info.default else info.key))
            wait_idle(page, timeout=180)
            no_traceback(page)

        page.goto(cloud_server["url"] + "/train?" + urlencode(TINY))
        wait_idle(page)
        main.get_by_role("button", name="Start", exact=True).click()
        main.get_by_text(re.compile(r"Test pair accuracy [\d.]+% at threshold")).wait_for(timeout=180_000)
        no_traceback(page)

        goto_nav(page, "Compare")  # the same session: the model just trained answers
        for side in (0, 1):
            page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(side).get_by_text(
                "Test digit"
            ).click()
            wait_idle(page)
        main.get_by_text(re.compile("^(Same digit|Different digits)$")).first.wait_for(timeout=60_000)
        # an upload passes the XSRF check and is read
        page.locator("[data-testid='stMain'] [data-testid='stRadio']").nth(0).get_by_text("Upload").click()
        wait_idle(page)
        photo = jpeg_file(tmp_path / "seven.jpg", paper_photo(a_test_digit(7)))
        page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(photo)
        wait_idle(page)
        main.get_by_text("what the network sees (28x28)").first.wait_for()
        main.get_by_text(re.compile("^(Same digit|Different digits)$")).first.wait_for(timeout=60_000)
        no_traceback(page)

        goto_nav(page, "Class board")
        box = main.get_by_role("textbox", name="Your nickname on your own board")
        box.fill("Kim")
        box.press("Enter")
        wait_idle(page)
        main.get_by_role("button", name="Post").click()
        time.sleep(0.5)
        wait_idle(page)
        main.get_by_text(re.compile("^Posted to")).first.wait_for()
        main.get_by_text("1 run from 1 student").first.wait_for(timeout=15_000)
        no_traceback(page)
        shot(page, "community-cloud-board")
    finally:
        context.close()
