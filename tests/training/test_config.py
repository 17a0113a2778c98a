"""digitpad.training.config: the settings saved beside every model."""

from __future__ import annotations

import dataclasses
import json

from digitpad import DEFAULT_MODEL_PATH, RUNS_DIR
from digitpad.training.config import ARCHITECTURES, FineTuneConfig, TrainConfig


def test_defaults_write_into_runs_and_start_from_the_shipped_model():
    assert TrainConfig().out.startswith(str(RUNS_DIR)) and FineTuneConfig().out.startswith(
        str(RUNS_DIR)
    )
    assert FineTuneConfig().model == str(DEFAULT_MODEL_PATH)
    assert TrainConfig().arch in ARCHITECTURES == ("default", "tutorial")


def test_saved_as_json_with_every_field():
    saved = json.loads(json.dumps(TrainConfig(seed=3).to_json()))
    assert saved == dataclasses.asdict(TrainConfig(seed=3)) and saved["seed"] == 3
    tuned = FineTuneConfig(extra_data="mine").to_json()
    assert tuned["fine_tune"] is True and tuned["extra_data"] == "mine"
    assert {f.name for f in dataclasses.fields(FineTuneConfig)} < set(tuned)


def test_a_fine_tune_trains_on_non_digits_at_the_configured_rate(sample):
    """Without non-digits a fine-tune would unlearn "not sure" for scribbles: its training mix
    holds them, FineTuneConfig.outliers of it."""
    from digitpad.training.data import NOT_A_DIGIT
    from digitpad.training.finetune import Person, training_mix

    config = FineTuneConfig(dry_run=True, outliers=0.1)
    x, y = sample.x_test[:30], sample.y_test[:30]
    person = Person(x[:20], y[:20], x[20:], y[20:], 30)
    _, labels, record = training_mix(sample, person, config)
    assert record["n_outliers"] == round(0.1 * (len(labels) - record["n_outliers"]))
    assert (labels == NOT_A_DIGIT).sum() == record["n_outliers"] > 0
