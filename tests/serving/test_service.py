"""The model service: the pages' calls answered by real worker processes, on models named by
handles, next to a running training; the server's registry of those models and its bounds."""

import sys

import numpy as np
import pytest

from siamese_core.config import PRESETS
from siamese_core.jobs import Status
from siamese_core.network.data import embedded_digits, load_dataset
from siamese_core.network.persistence import DEFAULT_MODEL, ModelProblem, load_default
from siamese_core.serving.mirrors import RemoteTrainingJob
from siamese_core.serving.pool import ServiceError, WorkerPool
from siamese_core.serving.protocol import ModelBytes, ModelFacts, ModelRef
from siamese_core.serving.registry import PRETRAINED, ModelGone, ModelRegistry
from siamese_core.tasks import ModelCall

PRETRAINED_REF = ModelRef(PRETRAINED, ModelFacts(0, "", 0))


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(1, warm_up=False)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="module")
def reference():
    """The pretrained model loaded here, in the test process, to compare the service's answers with."""
    return load_default()


def test_a_verdict_from_the_service_equals_the_model_run_here(pool, reference):
    from siamese_core.network.compare import compare_pair

    model, meta = reference
    digits, labels = embedded_digits()
    threshold = float(meta["threshold"])
    for i, j in ((0, 1), (2, 2), (3, 40)):
        served = pool.call(
            ModelCall.COMPARE.value, dict(model=PRETRAINED_REF, a=digits[i], b=digits[j], threshold=threshold)
        )
        here = compare_pair(model, digits[i], digits[j], threshold)
        assert served.distance == pytest.approx(here.distance, abs=1e-5) and served.same == here.same


def test_the_pretrained_models_facts_are_read_off_the_model(pool, reference):
    from tests.helpers import tensorflow_in

    model, _meta = reference
    facts = pool.call(ModelCall.FACTS.value, dict(model=PRETRAINED_REF))
    assert facts == ModelFacts(model.count_params(), "euclidean", 1)
    # after its first answer (before it, the process may still be importing TensorFlow: this test can
    # run first on its own pytest process): the service's process has TensorFlow, and the check sees it
    assert tensorflow_in(pool.pids()[0])


def test_a_model_made_by_a_call_comes_back_as_a_handle_its_owner_keeps(pool):
    data = DEFAULT_MODEL.read_bytes()
    ref, meta = pool.call(ModelCall.LOAD_UPLOAD.value, dict(data=data), owner="student-1")
    assert isinstance(ref, ModelRef) and ref.handle != PRETRAINED and meta["threshold"] > 0
    assert pool.models.owner_of(ref.handle) == "student-1"
    assert pool.models.bytes_of(ref.handle)[:2] == b"PK"  # a .keras (zip) file, kept by the server
    digits, _labels = embedded_digits()
    a = pool.call(ModelCall.EMBED.value, dict(model=ref, x=digits[:5]))
    b = pool.call(ModelCall.EMBED.value, dict(model=PRETRAINED_REF, x=digits[:5]))
    np.testing.assert_allclose(a, b, atol=1e-6)  # the same weights, uploaded: the same embeddings


def test_a_students_bad_file_comes_back_as_its_sentence(pool):
    with pytest.raises(ServiceError) as caught:
        pool.call(ModelCall.LOAD_UPLOAD.value, dict(data=b"not a zip"))
    assert isinstance(caught.value.problem, ModelProblem)
    assert "not a .keras model file" in str(caught.value.problem)


def test_a_handle_the_worker_lost_is_sent_again(pool):
    """A worker keeps a few models; the server keeps every handle's bytes and sends them again."""
    ref, _meta = pool.call(ModelCall.LOAD_UPLOAD.value, dict(data=DEFAULT_MODEL.read_bytes()), owner="s2")
    pool.call(ModelCall.FACTS.value, dict(model=ref))
    for worker in pool._workers:
        worker.loaded.discard(ref.handle)  # the server forgets it sent it: it sends it again
    assert pool.call(ModelCall.FACTS.value, dict(model=ref)).parameters > 0


def test_a_dropped_model_says_so():
    pool = WorkerPool.__new__(WorkerPool)  # only the registry is asked: no process needed
    pool.models = ModelRegistry()
    with pytest.raises(ModelGone):
        pool.models.bytes_of("no-such-handle")


def test_calls_are_answered_while_a_training_runs_and_a_dead_worker_is_replaced():
    """0 training slots still answer calls (a container too small to train in); with one slot, a
    call is answered next to the running training, long before that training ends; a worker
    killed mid-training fails that training with a sentence and the next call is answered by
    its replacement."""
    import os
    import signal

    small = WorkerPool(0, warm_up=False)
    try:
        assert len(small.stats().workers) == 1  # one process answers the pages
        assert small.call(ModelCall.FACTS.value, dict(model=PRETRAINED_REF)).branches == 1
    finally:
        small.shutdown()

    pool = WorkerPool(1, warm_up=False)
    try:
        config = PRESETS["classroom"].replace(dataset="mnist-5k", epochs=20)
        job = RemoteTrainingJob(config, load_dataset("mnist-5k", 0, (), config.val_size))
        pool.submit(job)
        digits, _labels = embedded_digits()
        deadline = 120
        while job.snapshot().step < 2 and deadline:  # the training is under way
            import time

            time.sleep(1)
            deadline -= 1
        assert job.snapshot().status == Status.RUNNING
        verdict = pool.call(
            ModelCall.COMPARE.value, dict(model=PRETRAINED_REF, a=digits[0], b=digits[1], threshold=0.5)
        )
        assert verdict.distance > 0 and job.snapshot().status == Status.RUNNING  # answered mid-training
        os.kill(pool.pids()[0], signal.SIGKILL)
        assert job.join(60)
        snapshot = job.snapshot()
        assert snapshot.status == Status.FAILED and "killed" in snapshot.reason
        again = pool.call(
            ModelCall.COMPARE.value, dict(model=PRETRAINED_REF, a=digits[0], b=digits[1], threshold=0.5)
        )
        assert again.distance == pytest.approx(verdict.distance, abs=1e-5)
    finally:
        pool.shutdown()


# ---- the registry: owners and bounded lives ------------------------------------------------------------------
FACTS = ModelFacts(10, "euclidean", 1)


def test_the_registry_bounds_each_owner_the_idle_and_the_total():
    now = [0.0]
    registry = ModelRegistry(DEFAULT_MODEL, idle_seconds=100, per_owner=2, max_bytes=10, clock=lambda: now[0])
    a1 = registry.register(ModelBytes(b"aaa", FACTS), "a")
    now[0] = 1
    a2 = registry.register(ModelBytes(b"aaa", FACTS), "a")
    now[0] = 2
    a3 = registry.register(ModelBytes(b"aaa", FACTS), "a")  # a's third: its oldest goes
    assert not registry.has(a1.handle) and registry.has(a2.handle) and registry.has(a3.handle)
    assert registry.stats() == (2, 6) and registry.dropped == 1
    now[0] = 50
    registry.bytes_of(a2.handle)  # used: lives on
    now[0] = 120  # a3 unused for 118 s > 100: dropped; a2 used 70 s ago: kept
    assert registry.has(a2.handle) and not registry.has(a3.handle)
    b = registry.register(ModelBytes(b"bbbbbbbb", FACTS), "b")  # 3 + 8 > 10 bytes: the least recent goes
    assert registry.has(b.handle) and not registry.has(a2.handle)
    with pytest.raises(ModelGone):
        registry.bytes_of(a2.handle)
    assert registry.has(PRETRAINED) and registry.bytes_of(PRETRAINED) == DEFAULT_MODEL.read_bytes()
    registry.release(b.handle)
    assert registry.stats() == (0, 0)


def test_the_web_servers_modules_import_no_tensorflow():
    """What the pages import (siamese_ui, the core's light modules) loads no TensorFlow; the
    page-by-page check, in AppTest and in a browser, is tests/ui/test_no_tensorflow.py and
    tests/e2e/test_no_tensorflow.py."""
    import subprocess

    code = (
        "import sys, siamese_ui.service, siamese_ui.session, siamese_ui.shared, siamese_core.tasks, "
        "siamese_core.network.inspect, siamese_core.lessons.compose, siamese_core.lessons.transfer, "
        "siamese_core.lessons.ranking, siamese_core.network.service_calls; "
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]


def test_a_call_goes_to_the_process_that_has_its_model_already():
    """Of two idle processes, the one that loaded a student's model answers the next call on it:
    the other never receives its bytes (each load costs a process ~50 ms of CPU and memory)."""
    pool = WorkerPool(2, warm_up=False)
    try:
        ref, _meta = pool.call(ModelCall.LOAD_UPLOAD.value, dict(data=DEFAULT_MODEL.read_bytes()), owner="s3")
        pool.call(ModelCall.FACTS.value, dict(model=ref))
        holder = [w for w in pool._workers if ref.handle in w.loaded]
        assert len(holder) == 1
        other = next(w for w in pool._workers if w is not holder[0])
        assert other.ready.wait(120)
        with pool._lock:
            pool._workers.sort(key=lambda w: w is holder[0])  # the other one first: ties went to it
        for _ in range(3):
            assert pool.call(ModelCall.FACTS.value, dict(model=ref)).parameters > 0
        assert ref.handle not in other.loaded
        assert pool.call(ModelCall.FACTS.value, dict(model=PRETRAINED_REF)).branches == 1
    finally:
        pool.shutdown()
