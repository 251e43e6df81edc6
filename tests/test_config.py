import pytest

from siamese_core.config import PRESETS, SiameseConfig


def test_query_string_round_trips_every_preset():
    for config in PRESETS.values():
        back, notes = SiameseConfig.from_query(config.to_query())
        assert back == config and notes == []


def test_defaults_give_an_empty_query():
    assert SiameseConfig().to_query() == {}


def test_bad_query_values_are_ignored_with_a_note():
    config, notes = SiameseConfig.from_query(
        {"epochs": "lots", "margin": "-3", "branch": "resnet", "shared": "maybe", "seed": "4", "page": "x"}
    )
    assert config == SiameseConfig(seed=4)
    assert len(notes) == 4 and any("epochs" in n for n in notes)


def test_query_text_read_on_another_base_is_another_experiment():
    """The defect of the old Train page: written against SiameseConfig(), read on a preset."""
    text = PRESETS["fast-mlp"].to_query()
    assert SiameseConfig.from_query(text, PRESETS["classroom"])[0] != PRESETS["fast-mlp"]
    for base in PRESETS.values():  # one base for both directions: always the same experiment
        for config in PRESETS.values():
            assert SiameseConfig.from_query(config.to_query(base), base)[0] == config


def test_invalid_config_raises_with_the_forms_words():
    with pytest.raises(ValueError, match="Batch size must be between 2 and 4,096"):
        SiameseConfig(batch_size=1)
    with pytest.raises(ValueError, match="Held-out digits must be digits from 0 to 9"):
        SiameseConfig(held_out_classes=(11,))
    with pytest.raises(ValueError, match="at most 8 of the 10 digits") as err:
        SiameseConfig(held_out_classes=tuple(range(9)))
    assert "held_out_classes" not in str(err.value)
    with pytest.raises(ValueError, match="tune it on the test set"):
        SiameseConfig(val_size=0, calibrate_threshold=True)


def test_keras_example_preset_trains_on_all_60000_and_validates_on_test(tmp_path, monkeypatch):
    """The example fits on all of MNIST's training digits with the test pairs as validation."""
    import numpy as np

    from siamese_core.network import data

    x = np.zeros((60000, 28, 28), np.uint8)
    y = np.tile(np.arange(10), 6000)
    xs, ys = np.ones((10000, 28, 28), np.uint8), np.tile(np.arange(10), 1000)
    monkeypatch.setattr(data, "load_arrays", lambda name: (x, y, xs, ys))
    config = PRESETS["keras-example"]
    ds = data.load_dataset("mnist", config.seed, config.held_out_classes, val_size=config.val_size)
    assert len(ds.train.y) == 60000 and ds.val.x is not None and len(ds.val.y) == 10000
    assert ds.val.x.min() == 1  # the test images
    assert len(data.load_dataset("mnist", 0, (), val_size=5000).train.y) == 55000
