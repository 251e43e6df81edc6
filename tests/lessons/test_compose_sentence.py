"""The composing lesson's chart sentence (siamese_core/lessons/compose.py), worked by hand."""

from __future__ import annotations

from siamese_core.lessons.compose import reconstruction_sentence


def test_one_epoch_is_not_read_as_a_change_from_itself():
    # one epoch said "jointly 0.1878 (from 0.1878)", as if nothing had been learnt
    assert reconstruction_sentence([0.18784], [0.22331]) == (
        "Reconstruction MSE after its one epoch: jointly 0.1878; separately (A frozen) 0.2233."
    )


def test_more_epochs_name_the_last_and_the_first():
    assert reconstruction_sentence([0.2, 0.1, 0.05], [0.3, 0.25, 0.24]) == (
        "Reconstruction MSE after epoch 3: jointly 0.0500 (after epoch 1: 0.2000); "
        "separately (A frozen) 0.2400 (after epoch 1: 0.3000)."
    )
