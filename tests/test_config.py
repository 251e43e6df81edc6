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


def test_invalid_config_raises():
    with pytest.raises(ValueError, match="batch_size"):
        SiameseConfig(batch_size=1)
    with pytest.raises(ValueError, match="held_out_classes"):
        SiameseConfig(held_out_classes=(11,))
