"""digitpad.config: the settings saved beside every model."""

from __future__ import annotations

import dataclasses
import json

import pytest

from digitpad import DEFAULT_MODEL_PATH, RUNS_DIR
from digitpad.config import ARCHITECTURES, FineTuneConfig, TrainConfig


def test_defaults_write_into_runs_and_start_from_the_shipped_model():
    assert TrainConfig().out.startswith(str(RUNS_DIR)) and FineTuneConfig().out.startswith(
        str(RUNS_DIR)
    )
    assert FineTuneConfig().model == str(DEFAULT_MODEL_PATH)
    assert TrainConfig().arch in ARCHITECTURES == ("default", "tutorial")


def test_the_configs_are_frozen_and_replaced_whole():
    config = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.epochs = 3
    assert dataclasses.replace(config, epochs=3).epochs == 3 and config.epochs == 16


def test_saved_as_json_with_every_field():
    saved = json.loads(json.dumps(TrainConfig(seed=3).to_json()))
    assert saved == dataclasses.asdict(TrainConfig(seed=3)) and saved["seed"] == 3
    tuned = FineTuneConfig(extra_data="mine").to_json()
    assert tuned["fine_tune"] is True and tuned["extra_data"] == "mine"
    assert {f.name for f in dataclasses.fields(FineTuneConfig)} < set(tuned)


def test_a_fine_tune_keeps_the_non_digits_of_training():
    assert FineTuneConfig().outliers == TrainConfig().outliers
    assert FineTuneConfig().outlier_weight == TrainConfig().outlier_weight
