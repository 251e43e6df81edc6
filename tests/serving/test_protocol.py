"""What crosses the worker pipe comes back as it left: typed rows stay typed (encode, pickle, decode),
inside dataclasses, lists and tuples, as a race's result and a training's sync carry them."""

import pickle

from siamese_core.jobs import Status, TrainingSync
from siamese_core.lessons.race import RaceSide
from siamese_core.results import BatchRow, EpochRow
from siamese_core.serving.protocol import Synced, decode, encode

BATCHES = [
    BatchRow(step=1, epoch=1, loss=0.25, pair_accuracy=0.5, t=0.125),
    BatchRow(step=2, epoch=1, loss=None, pair_accuracy=None, t=0.25),  # a metric Keras did not log
]
EPOCHS = [
    EpochRow(
        epoch=1,
        loss=0.2,
        pair_accuracy=0.75,
        val_loss=0.21,
        val_pair_accuracy=0.8,
        threshold=0.45,
        seconds=1.5,
        complete=False,
    )
]


def across_the_pipe(value):
    """As a worker sends a task's result: encoded, pickled, unpickled, decoded."""
    return decode(pickle.loads(pickle.dumps(encode(value))))


def test_nested_lists_and_tuples_of_rows_round_trip_typed():
    side = RaceSide(True, 10, 1.5, 0.9, 0.95, 0.45, 0.0, 0.0, tuple(BATCHES), tuple(EPOCHS), "run")
    value = {"sides": [side], "rows": [BATCHES, EPOCHS], "pair": (BATCHES[0], EPOCHS[0])}
    back = across_the_pipe(value)
    assert back == value
    assert type(back["sides"][0]) is RaceSide and type(back["sides"][0].batches) is tuple
    assert [type(r) for r in back["sides"][0].batches] == [BatchRow, BatchRow]
    assert type(back["rows"][0]) is list and type(back["rows"][1][0]) is EpochRow
    assert back["rows"][0][1].loss is None and back["rows"][1][0].complete is False


def test_a_training_sync_carries_its_rows_typed():
    sync = TrainingSync(Status.RUNNING, "", "CPU", 8, 2, None, 0.25, True, BATCHES, EPOCHS, [])
    back = pickle.loads(pickle.dumps(Synced(7, sync))).state
    assert back == sync and back.batches[1].step == 2 and back.epochs[0].val_loss == 0.21
