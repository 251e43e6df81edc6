"""The server's registry of students' trainings: tabs of one browser are one student."""

import gc

from siamese_ui.student import StudentRegistry


class Job:
    pass


def test_every_tab_closed_means_absent_and_stays_so():
    registry, open_sessions = StudentRegistry(), {"tab-1", "tab-2"}

    def is_open(session):
        return session in open_sessions

    registry.watch("ann", "tab-1")
    registry.watch("ann", "tab-2")
    assert registry.owner_present("ann", is_open) is True
    open_sessions.discard("tab-1")
    assert registry.owner_present("ann", is_open) is True  # the other tab is still there
    open_sessions.clear()
    for _ in range(3):  # asked again and again (every 2 s): still absent, never "cannot tell"
        assert registry.owner_present("ann", is_open) is False
    assert registry.owner_present("bob", is_open) is None  # never seen: nobody to ask


def test_jobs_are_held_weakly_and_found_by_student():
    registry = StudentRegistry()
    job = Job()
    registry.set_job("ann", job)
    assert registry.job("ann") is job and registry.job("bob") is None and len(registry) == 1
    registry.forget_job("ann", Job())  # someone else's job: nothing happens
    assert registry.job("ann") is job
    del job
    gc.collect()
    assert registry.job("ann") is None and len(registry) == 0


def test_each_students_trainings_are_numbered_on_the_server_not_per_tab():
    """Run numbers count a student's trainings on this server: a reload (a new session) names the
    run as the first tab did; another student counts from 1; registering a job again keeps its
    number."""
    registry = StudentRegistry()
    first, second, other = Job(), Job(), Job()
    registry.set_job("ann", first)
    registry.set_job("ann", second)
    registry.set_job("bob", other)
    registry.set_job("ann", second)  # found again by a reload: not a new run
    assert [registry.number(j) for j in (first, second, other)] == [1, 2, 1]
    assert registry.number(Job()) is None  # never registered: the session counts it
