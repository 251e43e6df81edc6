"""The web server of a real ``streamlit run`` keeps to one core where its training processes keep to
one core each (a container of exactly two cores, like Community Cloud's largest): the last of them,
for every thread it has and starts (siamese_ui/resources.worker_pool)."""

from __future__ import annotations

import os

import pytest

from siamese_core.serving.container import cores_to_pin, plan_workers, read_limits

from .conftest import wait_idle

pytestmark = pytest.mark.browser


def _cores_of(pid: int) -> set[str]:
    """The cores each thread of a process may run on (Cpus_allowed_list of every task)."""
    lists = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as status:
                lists.add(next(line.split()[1] for line in status if line.startswith("Cpus_allowed_list")))
        except OSError:  # a thread that ended meanwhile
            continue
    return lists


def test_the_web_server_keeps_to_the_last_training_core(page, server):
    limits = read_limits()
    pinned = cores_to_pin(2, 1, limits.cpus)  # as the server's pool of two decides it
    if not pinned or plan_workers(limits).workers != 2:
        pytest.skip("not a machine of exactly two cores with room for two trainings: nothing is pinned")
    page.goto(page.base_url + "/compare")  # a page that asks the model service: the pool exists
    wait_idle(page)
    page.get_by_role("heading", name="Digit A").wait_for()
    assert _cores_of(server["proc"].pid) == {str(pinned[-1])}
