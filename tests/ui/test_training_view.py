"""What the Train page shows of a job, worked out by hand on made-up snapshots."""

from dataclasses import replace

from siamese_core.jobs import Status
from siamese_core.network.training import JobSnapshot
from siamese_core.results import BatchRow, EpochRow
from siamese_ui.training_view import (
    EPOCH_HEADER,
    curves,
    epoch_rows,
    long_run_note,
    paused_yield_note,
    server_line,
    status_line,
)

BASE = JobSnapshot(
    status=Status.RUNNING,
    reason="",
    device="CPU",
    epoch=2,
    epochs=500,
    step=150,
    total_steps=37_500,
    steps_per_epoch=75,
    batches_per_call=1,
    progress=0.004,
    elapsed=12.0,
    pairs_per_second=1066.7,
    eta_seconds=4500.0,
    batches=(BatchRow(step=150, epoch=3, loss=0.1, pair_accuracy=0.9, t=12.0),),
    epoch_history=(
        EpochRow(
            epoch=1,
            loss=0.2,
            pair_accuracy=0.8,
            val_loss=0.21,
            val_pair_accuracy=0.81234,
            threshold=0.4567,
            seconds=6.04,
            complete=True,
        ),
    ),
    threshold=0.4567,
    calibrated=True,
    result=None,
)


def test_a_long_run_says_so_in_minutes():
    """epochs = 500 used to start with 'ETA 4500 s' and no word."""
    assert (
        status_line(BASE)
        == "Training · epoch 2/500 · batch 150 of 37,500 in all · 1,067 pairs/s · ETA 75 min"
    )
    assert long_run_note(BASE).startswith("At this speed the run takes about 75 more minutes.")
    assert long_run_note(replace(BASE, eta_seconds=300.0)) == ""
    assert long_run_note(replace(BASE, status=Status.PAUSED)) == ""
    assert status_line(replace(BASE, eta_seconds=42.4)).endswith("ETA 42 s")


def test_a_paused_run_states_no_speed():
    """A paused run moves at 0 pairs/s: its last running speed (1,067) read as if it still moved."""
    assert (
        status_line(replace(BASE, status=Status.PAUSED))
        == "Paused · epoch 2/500 · batch 150 of 37,500 in all"
    )


def test_the_epoch_table_is_formatted_the_same_live_and_after():
    assert EPOCH_HEADER[2] == "pair accuracy (0.5)" and EPOCH_HEADER[-1] == "training time"
    assert epoch_rows(BASE.epoch_history) == [("1", "0.2000", "80.00%", "0.2100", "81.23%", "0.457", "6.0 s")]
    partial = replace(BASE.epoch_history[0], complete=False)
    assert epoch_rows([partial])[0][0] == "1 (partial)"


def test_each_accuracy_series_names_its_threshold():
    _, accuracy = curves(BASE)
    assert [s.name for s in accuracy] == [
        "training pair accuracy at 0.5 (running)",
        "validation pair accuracy at the calibrated threshold, epoch",
    ]
    _, fixed = curves(replace(BASE, calibrated=False))
    assert fixed[1].name == "validation pair accuracy at 0.5, epoch"


def test_a_place_in_line_reads_as_a_sentence():
    from siamese_ui.training_view import ordinal, queue_line

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th",
    ]  # fmt: skip
    assert queue_line(3, 41.0).startswith("**3rd in line**, about 40 s.")
    assert "about 3 min" in queue_line(12, 170.0)
    assert "any moment now" in queue_line(1, 0.3)
    assert "Stop gives your place up" in queue_line(1, 10)


def test_a_batch_is_shown_under_the_epoch_it_belongs_to_whatever_was_recorded():
    """94 batches a epoch: batch 94 is epoch 1's last, batch 95 epoch 2's first, whether the run
    trains, pauses or has stopped, and whatever partial epoch a stop recorded (it said "epoch 3"
    for batch 174 after a stop, and "epoch 2" then "epoch 1" for batch 94)."""
    for status in (Status.RUNNING, Status.PAUSED, Status.STOPPED):
        for step, epoch in ((1, 1), (94, 1), (95, 2), (174, 2), (470, 5)):
            snapshot = replace(BASE, status=status, step=step, steps_per_epoch=94, epochs=5, epoch=2)
            assert f" · epoch {epoch}/5 · batch {step:,} of " in status_line(snapshot), (status, step)


def _result(auc: float, stopped_early: bool = False, steps: int = 16):
    from siamese_core.results import TrainingResult

    return TrainingResult(
        test_pair_accuracy=0.5,
        threshold=0.3,
        auc=auc,
        precision_at_1=0.1,
        map_at_r=0.1,
        one_shot_accuracy_held_out=None,
        one_shot_way=None,
        test_pairs=2000,
        epochs=1,
        steps=steps,
        train_seconds=1.0,
        dataset="mnist-5k",
        dataset_note="",
        device="CPU",
        stopped_early=stopped_early,
    )


def test_a_run_at_chance_level_is_told_so_with_its_own_figures():
    import numpy as np

    from siamese_core.results import learned_nothing, spread
    from siamese_ui.training_view import learned_nothing_note

    # four points at (±3, ±4) lie 5 from their centre; the same shape at a tenth, 0.5
    before = np.array([[3.0, 4.0], [-3.0, -4.0], [3.0, -4.0], [-3.0, 4.0]]) + 7.0
    after = before / 10.0 + 1.0
    assert spread(before) == 5.0 and abs(spread(after) - 0.5) < 1e-12
    collapsed = learned_nothing(_result(0.512), [before, before * 2, after / 2])  # 0.25 of 5: 5%
    assert collapsed.collapsed and abs(collapsed.spread_ratio - 0.05) < 1e-12
    assert learned_nothing_note(collapsed, shared=False) == (
        "This network did not learn to tell pairs apart: its ROC AUC is 0.512, and guessing scores 0.500. "
        "Its embeddings collapsed: 4 test digits lie on average 0.2500 from their centre, against 5.0000 "
        "before training (5.0%), so every pair is about the same distance apart. "
        "Two branches that share no weights start as two different functions and often end like this. "
        "Try again with shared weights, a smaller learning rate or a larger margin."
    )
    spread_out = learned_nothing(_result(0.59), [before, before])  # at chance, but not collapsed
    assert not spread_out.collapsed
    assert learned_nothing_note(spread_out, shared=True) == (
        "This network did not learn to tell pairs apart: its ROC AUC is 0.590, and guessing scores 0.500. "
        "Try again with a smaller learning rate, a larger margin or another seed."
    )
    assert not learned_nothing(_result(0.512), []).collapsed  # no probe: nothing said of a collapse
    assert learned_nothing(_result(0.6), [before, after]) is None  # learned something
    assert learned_nothing(_result(0.512, stopped_early=True), [before, after]) is None  # stopped: plain
    assert learned_nothing(None) is None


def test_a_page_in_line_redraws_less_often_the_longer_its_wait():
    from siamese_core.serving.pool_report import Place
    from siamese_ui.training_view import REFRESH_SECONDS, refresh_seconds

    assert refresh_seconds(Status.IDLE) is None and refresh_seconds(Status.FINISHED) is None
    assert refresh_seconds(Status.RUNNING) == REFRESH_SECONDS == 0.8
    assert refresh_seconds(Status.PAUSED) == 0.8  # Resume or Step from another tab shows at once
    waits = (0.0, 44.9, 45.0, 119.9, 120.0, 600.0)
    assert [refresh_seconds(Status.QUEUED, Place(2, w)) for w in waits] == [3.0, 3.0, 6.0, 6.0, 10.0, 10.0]
    assert refresh_seconds(Status.QUEUED) == 3.0  # no place known (it has just left the line)


def test_a_paused_run_with_others_in_line_is_told_when_it_yields():
    assert paused_yield_note(1, 41.2) == (
        "1 training is waiting in line for a worker: in 42 s this paused run is stopped and tested, "
        "so that it can start. Resume or Step to go on."
    )
    assert paused_yield_note(3, -0.5).startswith("3 trainings are waiting in line for a worker: in 0 s")


def test_the_servers_line_counts_a_paused_run_as_running_and_says_so():
    base = (
        "On this server: **2 of 2** trainings running, **0** waiting in line (everyone's trainings "
        "count; the line moves by itself)."
    )
    assert server_line(2, 2, 0, 0) == base
    assert server_line(2, 2, 0, 1) == (
        base + " 1 of the running trainings is paused: it keeps its worker until it goes on or yields "
        "it to the line."
    )
    assert server_line(2, 2, 0, 2).endswith(
        " 2 of the running trainings are paused: each keeps its worker until it goes on or yields it to "
        "the line."
    )


def test_the_next_step_runs_one_call_cut_at_the_epochs_end():
    # 75 batches an epoch, 8 a call: 8 from batch 0 or 150 (an epoch's start), 3 from batch 72 or 147
    call = replace(BASE, batches_per_call=8)
    assert [replace(call, step=s).next_step_batches for s in (0, 64, 72, 74, 75, 147, 150)] == [
        8,
        8,
        3,
        1,
        8,
        3,
        8,
    ]
    assert replace(call, steps_per_epoch=0, step=0).next_step_batches == 8  # pairs not made yet
