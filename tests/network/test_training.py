import subprocess
import sys
import time

import numpy as np
import pytest

from siamese_core.config import SiameseConfig
from siamese_core.jobs import Status
from siamese_core.network.shells import ModelShells, shell_key
from siamese_core.network.training import ABANDONED, TrainingJob, pair_dataset, with_grace

FAILED, FINISHED, PAUSED, STOPPED = Status.FAILED, Status.FINISHED, Status.PAUSED, Status.STOPPED

TINY = SiameseConfig(dataset="mnist-5k", epochs=2, pairs_per_epoch=1024, batch_size=64, embedding_dim=16)


def wait_for(pred, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_pair_dataset_gathers_every_pair_once_from_the_uint8_images():
    """10 pairs in batches of 4: batches of 4, 4, 2; each row is images[i], images[j] and its
    label, every pair exactly once, nothing converted to float on the way."""
    from siamese_core.network.data import Pairs

    images = np.arange(12 * 28 * 28, dtype=np.uint32).reshape(12, 28, 28).astype(np.uint8)
    images[:, 0, 0] = np.arange(12)  # a readable id per image
    i = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], np.int32)
    j = np.array([11, 10, 9, 8, 7, 6, 5, 4, 3, 2], np.int32)
    label = (np.arange(10) % 2).astype(np.float32).reshape(-1, 1)
    ds = pair_dataset(images, Pairs(i, j, label), 4, shuffle_seed=3)
    seen = []
    sizes = []
    for (a, b), y in ds.as_numpy_iterator():
        assert a.dtype == np.uint8 and b.dtype == np.uint8 and y.shape == (len(a), 1)
        sizes.append(len(a))
        for k in range(len(a)):
            ia, ib = int(a[k, 0, 0]), int(b[k, 0, 0])
            np.testing.assert_array_equal(a[k], images[ia])
            np.testing.assert_array_equal(b[k], images[ib])
            seen.append((ia, ib, float(y[k, 0])))
    assert sizes == [4, 4, 2]
    assert sorted(seen) == [(int(i[k]), int(j[k]), float(label[k, 0])) for k in range(10)]
    # tf.data's autotuner is off: its thread made some fit() calls wait 4-5 s at their end
    assert ds.options().autotune.enabled is False


def test_a_tiny_run_fills_history_events_and_result(small_data):
    events = []
    job = TrainingJob(TINY, small_data, on_event=events.append, probe_per_class=5)
    result = job.run()
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "status" and kinds[-1] == "done"
    assert kinds.count("epoch") == 2
    epoch = next(e["row"] for e in events if e["kind"] == "epoch")
    assert epoch == job.epochs[0]  # the event carries the row the job keeps
    for value in (epoch.loss, epoch.val_loss, epoch.val_pair_accuracy, epoch.threshold, epoch.seconds):
        assert np.isfinite(value)
    assert len(job.batches) == 2 * (1024 // 64) and job.batches[-1].step == 32
    assert [e.epoch for e in job.epochs] == [1, 2] and all(e.complete for e in job.epochs)
    assert len(job.probe_snapshots) == 3 and job.probe_snapshots[0].shape == (50, 16)
    assert 0.5 < result.test_pair_accuracy <= 1 and result.dataset == "mnist-5k"
    assert result.device == "CPU" and result.epochs == 2
    snap = job.snapshot()
    assert snap.status == FINISHED and snap.progress == 1.0 and snap.pairs_per_second > 0


def test_batch_events_are_throttled(small_data):
    events = []
    job = TrainingJob(
        TINY.replace(epochs=1, pairs_per_epoch=4096),
        small_data,
        on_event=events.append,
        batch_events_per_second=2,
        probe_per_class=2,
    )
    job.run()
    batch_events = sum(e["kind"] == "batch" for e in events)
    assert len(job.batches) == 64 and batch_events < 64  # every batch recorded, few sent


def test_pause_step_resume_and_stop_from_another_thread(small_data):
    job = TrainingJob(TINY.replace(epochs=50, pairs_per_epoch=2048), small_data, probe_per_class=2)
    job.pause()  # paused before the first batch: nothing runs until asked
    job.start()
    assert wait_for(lambda: job.snapshot().status == PAUSED)
    assert job.global_step == 0
    job.step()
    assert wait_for(lambda: job.global_step == 1 and job.snapshot().status == PAUSED)
    time.sleep(0.3)
    assert job.global_step == 1  # exactly one batch, then paused again
    job.step(3)
    assert wait_for(lambda: job.global_step == 4 and job.snapshot().status == PAUSED)
    job.resume()
    assert wait_for(lambda: job.global_step > 10)
    job.stop()
    at_stop = job.global_step
    assert job.join(60)
    snap = job.snapshot()
    assert snap.status == STOPPED and snap.reason == "stopped by the user"
    assert job.global_step <= at_stop + 1  # within one batch
    assert job.model is not None and snap.result.stopped_early is True
    assert len(snap.batches) == job.global_step  # history kept


def test_a_huge_learning_rate_stops_with_a_reason(small_data):
    config = TINY.replace(learning_rate=10, optimizer="sgd", epochs=3)  # the example
    job = TrainingJob(config, small_data, probe_per_class=2)
    job.run()
    assert job.status == FAILED
    assert "learning rate" in job.reason and "loss became" in job.reason
    assert job.model is not None  # what was trained is still there


def test_matchnet_head_trains_with_cross_entropy(small_data):
    config = TINY.replace(branch="mlp", head="matchnet", epochs=1, embedding_dim=8, optimizer="adam")
    result = TrainingJob(config, small_data, probe_per_class=2).run()
    assert result is not None and 0 <= result.test_pair_accuracy <= 1


def test_with_grace_forgives_short_absences_only():
    now, present = [0.0], [True]
    alive = with_grace(lambda: present[0], grace=10.0, clock=lambda: now[0])
    assert alive()
    present[0] = False
    now[0] = 5.0
    assert alive()  # gone for 0 s of 10
    now[0] = 14.0
    assert alive()  # gone for 9 s
    present[0] = True
    now[0] = 16.0
    assert alive()  # back: the clock of absence restarts
    present[0] = False
    now[0] = 17.0
    assert alive()
    now[0] = 27.0
    assert not alive()  # gone for 10 s


def test_a_closed_session_stops_its_job_without_a_test_report(small_data):
    owner_here = [True]
    job = TrainingJob(
        TINY.replace(epochs=200, pairs_per_epoch=2048),
        small_data,
        probe_per_class=2,
        keep_alive=lambda: owner_here[0],
    )
    released = []
    job.start(on_exit=lambda: released.append(True))
    assert wait_for(lambda: job.global_step > 5)
    owner_here[0] = False  # the tab closed
    assert job.join(30)
    snap = job.snapshot()
    assert snap.status == STOPPED and snap.reason == ABANDONED
    assert job.result is None and job.model is None  # no evaluation, nothing kept
    assert released == [True]
    assert job.global_step < 200 * 32


def test_finished_models_are_garbage_collected(small_data):
    """Nothing in the core keeps a trained model alive once its owner drops it (a cached
    inference function used to hold it, leaking every model a server ever trained)."""
    import gc
    import weakref

    from siamese_core.network.evaluation import forward

    job = TrainingJob(TINY.replace(epochs=1), small_data, probe_per_class=2)
    job.run()
    assert forward(job.model) is forward(job.model)  # the cache is used
    ref = weakref.ref(job.model)
    del job
    gc.collect()
    assert ref() is None


def _history(job):
    return [(row.loss, row.pair_accuracy) for row in job.batches], [
        (row.val_loss, row.val_pair_accuracy, row.threshold) for row in job.epochs
    ]


def test_a_kept_model_shell_trains_exactly_like_a_new_model(small_data, monkeypatch):
    """A process that keeps its compiled models (the model service) trains the second student
    on the first one's shell: weights, random-seed states and optimizer reset, the traced graph
    kept. Every batch's loss, every epoch's validation and the test report are those of a model
    built new with the same seed, after the shell was trained on another seed and stopped midway
    (Adam's moments and step count dirty)."""
    config = TINY.replace(branch="mlp", optimizer="adam", seed=7)  # the MLP's dropout has seed states
    alone = TrainingJob(config, small_data, probe_per_class=2)
    alone.run()
    shells = ModelShells()
    other = TrainingJob(config.replace(seed=8), small_data, probe_per_class=2, shells=shells, max_batches=20)
    other.run()
    assert other.status == STOPPED and shells.reused == 0
    shells.give_back(other.config, other.shell)
    again = TrainingJob(config, small_data, probe_per_class=2, shells=shells)
    again.run()
    assert shells.reused == 1 and again.model is other.model  # the same Keras object, trained anew
    assert again.status == FINISHED
    (batches, epochs), (batches_alone, epochs_alone) = _history(again), _history(alone)
    assert len(batches) == len(batches_alone) == 32
    np.testing.assert_allclose(batches, batches_alone, rtol=1e-5)
    np.testing.assert_allclose(epochs, epochs_alone, rtol=1e-5)
    assert again.result.test_pair_accuracy == pytest.approx(alone.result.test_pair_accuracy, abs=1e-4)
    for mine, theirs in zip(again.model.get_weights(), alone.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-4, atol=1e-6)
    # a third student with the same seed: the shell starts from the kept starting values, not a build
    shells.give_back(again.config, again.shell)
    from siamese_core.network import models

    built, build = [], models.build_siamese
    monkeypatch.setattr(models, "build_siamese", lambda c: built.append(c) or build(c))
    third = TrainingJob(config, small_data, probe_per_class=2, shells=shells)
    third.run()
    assert shells.reused == 2 and built == []  # nothing was built
    assert _history(third) == _history(again)
    assert third.result.test_pair_accuracy == again.result.test_pair_accuracy


def test_model_shells_are_lent_once_and_kept_per_shape():
    """A shell is lent to one training at a time; another shape (or learning rate) gets its own;
    the least recently given back goes first when more shapes than ``size`` were trained."""
    shells = ModelShells(size=2)
    a = TINY
    b = TINY.replace(embedding_dim=8)
    c = TINY.replace(learning_rate=0.01)
    assert len({shell_key(a), shell_key(b), shell_key(c)}) == 3
    assert shell_key(a) == shell_key(a.replace(seed=5, epochs=9, pairs_per_epoch=64, batch_size=32))
    first = shells.take(a)
    second = shells.take(a)  # the first is still lent: a new one
    assert second.model is not first.model and shells.reused == 0
    shells.give_back(a, first)
    assert shells.take(b).model is not first.model  # another shape: not this one
    shells.give_back(b, shells.take(b))
    shells.give_back(c, shells.take(c))  # three shapes given back, two kept: a's went first
    assert shells.take(a).model is not first.model
    assert shells.take(c).model.output.shape == (None, 1) and shells.reused == 1


MIRRORED = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
sys.path.insert(0, ".")
from siamese_core.config import SiameseConfig
from siamese_core.network.data import load_dataset
from siamese_core.network.training import TrainingJob
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
c = SiameseConfig(dataset="mnist-5k", epochs=1, pairs_per_epoch=1024, batch_size=64, embedding_dim=8)
job = TrainingJob(c, load_dataset("mnist-5k"), strategy=strategy, probe_per_class=2)
r = job.run()
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "status": job.status,
                  "acc": r.test_pair_accuracy, "device": job.device, "steps": job.global_step}))
"""


def test_mirrored_strategy_on_two_logical_cpus():
    import json
    from pathlib import Path

    out = subprocess.run(
        [sys.executable, "-c", MIRRORED],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["replicas"] == 2 and r["status"] == "finished" and r["steps"] == 16
    assert "x2 replicas" in r["device"]


def test_progress_never_overshoots_with_several_batches_per_call(small_data):
    """106 batches an epoch run 8 at a time: Keras reports the last call as batch 112."""
    config = TINY.replace(epochs=2, pairs_per_epoch=106 * 8, batch_size=8, steps_per_execution=8)
    job = TrainingJob(config, small_data, probe_per_class=2)
    seen = []
    job.on_event = lambda e: seen.append(job.snapshot()) if e["kind"] == "epoch" else None
    job.run()
    snap = job.snapshot()
    assert snap.total_steps == 212 and snap.step == 212 and snap.progress == 1.0
    assert [s.step for s in seen] == [106, 212]
    assert max(b.step for b in snap.batches) == 212
    assert snap.batches_per_call == 8


def test_threshold_is_unknown_until_calibrated(small_data):
    job = TrainingJob(TINY.replace(epochs=1), small_data, probe_per_class=2)
    assert job.snapshot().threshold is None and job.snapshot().calibrated
    job.run()
    assert job.snapshot().threshold == job.epochs[-1].threshold
    fixed = TrainingJob(TINY.replace(calibrate_threshold=False), small_data)
    assert fixed.snapshot().threshold == 0.5 and not fixed.snapshot().calibrated


def test_validation_loss_is_the_contrastive_loss_by_hand():
    from siamese_core.network.training import validation_loss

    # same pair at d=0.5: 0.25; different at d=0.2, margin 1: (0.8)^2 = 0.64; different at 1.5: 0
    scores, same = np.array([0.5, 0.2, 1.5]), np.array([1, 0, 0])
    assert validation_loss(TINY, scores, same) == pytest.approx((0.25 + 0.64 + 0) / 3, rel=1e-6)
    matchnet = TINY.replace(branch="matchnet", head="matchnet")
    # p(same) = 1 - score: 0.8 for a same pair, 0.3 for a different pair
    expected = -(np.log(0.8) + np.log(0.7)) / 2
    assert validation_loss(matchnet, np.array([0.2, 0.7]), np.array([1, 0])) == pytest.approx(expected)


def test_an_epoch_gathered_ahead_gives_the_graphs_batches_in_its_order(monkeypatch):
    """A small epoch is gathered once in NumPy, a large one batch by batch in the graph: the same
    batches, in the same seeded order, so a preset trains the same whichever way its epoch goes
    (the classroom preset's 10,000 pairs are gathered ahead)."""
    from siamese_core.network import training
    from siamese_core.network.data import Pairs

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    pairs = Pairs(
        rng.integers(0, 50, 37).astype(np.int32),
        rng.integers(0, 50, 37).astype(np.int32),
        rng.integers(0, 2, (37, 1)).astype(np.float32),
    )

    def batches(limit, seed):
        monkeypatch.setattr(training, "PAIR_IMAGES_GATHERED_AHEAD", limit)
        ds = pair_dataset(images, pairs, 8, shuffle_seed=seed)
        return ds, [(a, b, y) for (a, b), y in ds.as_numpy_iterator()]

    for seed in (3, 4, None):
        ahead, ahead_batches = batches(2 * 37 * 28 * 28, seed)
        in_graph, graph_batches = batches(2 * 37 * 28 * 28 - 1, seed)
        assert [len(a) for a, _, _ in ahead_batches] == [8, 8, 8, 8, 5]
        for got, want in zip(ahead_batches, graph_batches, strict=True):
            for g, w in zip(got, want, strict=True):
                assert g.dtype == w.dtype
                np.testing.assert_array_equal(g, w)
        assert ahead.element_spec == in_graph.element_spec
        assert ahead.options().autotune.enabled is False
    _, first = batches(10**9, 3)
    _, other = batches(10**9, 4)
    assert not np.array_equal(first[0][0], other[0][0])  # the seed orders the epoch
