"""The web server never imports TensorFlow (issue 26): the model service's processes do. Every
page of the navigation is walked (every control, every button: tests/ui/test_state_walk.py) in
the state with the most on it (a model trained in the session, the lesson on), in a pytest process
of its own that never imported TensorFlow; after each page, the process still has not. The same
holds for every real ``streamlit run`` server the browser tests start (tests/e2e/conftest.py
checks the server's memory map when it stops it)."""

import os
import subprocess
import sys

from tests.helpers import ROOT


def test_walking_every_page_imports_no_tensorflow_in_the_server():
    env = {**os.environ, "SIAMESE_LAB_WALK_WITHOUT_TENSORFLOW": "1"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "tests/ui/test_state_walk.py",
        "-k",
        "test_every_control_of_the_page_can_be_used and lesson-on-trained-here",
        "-n",
        "0",
        "--no-cov",
        "-p",
        "no:cacheprovider",
        "-q",
        "--durations=0",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0 and " passed" in summary and "failed" not in summary, done.stdout[-6000:]
    print(summary)
