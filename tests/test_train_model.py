"""``train_model.py``: its subcommands and their own flags, a fast --help, runs that write to runs/
and never into assets/, and ``ship`` as the one way to replace the shipped model."""

from __future__ import annotations

import pytest

import train_model
from digitpad import ASSETS_DIR
from digitpad.files import sha256_file
from digitpad.training.config import FineTuneConfig, TrainConfig
from digitpad.training.ship import SHIPPED_FILES
from harness import run_python

pytestmark = pytest.mark.slow


@pytest.fixture()
def runs(tmp_path, monkeypatch):
    """Where runs go by default, for this test only (the repository's runs/ stays untouched)."""
    monkeypatch.setattr(train_model, "RUNS_DIR", tmp_path / "runs")
    return tmp_path / "runs"


def shipped() -> dict[str, str]:
    return {name: sha256_file(ASSETS_DIR / name) for name in SHIPPED_FILES}


def test_help_does_not_load_tensorflow():
    """`python train_model.py --help` answers at once: nothing heavy is imported to build it."""
    code = (
        "import sys, contextlib, io, train_model\n"
        "for argv in (['--help'], ['train', '--help'], ['fine-tune', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        train_model.parse_args(argv)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'gradio', 'matplotlib') if m in sys.modules))"
    )
    result = run_python(code, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr


def test_the_commands(capsys):
    with pytest.raises(SystemExit):
        train_model.parse_args(["--help"])
    printed = capsys.readouterr().out
    commands = ("train", "evaluate", "fine-tune", "ship", "neighbours")
    assert all(command in printed for command in commands)


@pytest.mark.parametrize(
    "argv, wrong",
    [
        (["fine-tune", "digits/", "--arch", "tutorial"], "--arch"),
        (["fine-tune", "digits/", "--val-split", "0.2"], "--val-split"),
        (["fine-tune", "digits/", "--patience", "3"], "--patience"),
        (["evaluate", "--epochs", "3"], "--epochs"),
        (["train", "--holdout", "0.5"], "--holdout"),
        (["ship"], "run"),
        (["neighbours"], "RUN_OR_MODEL"),
        (["neighbours", "runs/x", "--epochs", "3"], "--epochs"),
        ([], "COMMAND"),
    ],
)
def test_each_command_takes_only_its_own_flags(argv, wrong, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_model.parse_args(argv)
    assert exit_info.value.code == 2 and wrong in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--val-split", "1.5"], "--val-split must be between 0 and 1"),
        (["train", "--outliers", "-1"], "must be 0 or more"),
        (["fine-tune", "d/", "--holdout", "0"], "--holdout must be between 0 and 1"),
        (["fine-tune", "d/", "--mnist-mix", "-5"], "--mnist-mix must be 0 or more"),
    ],
)
def test_bad_values_are_refused_at_once(argv, message, capsys):
    with pytest.raises(SystemExit):
        train_model.parse_args(argv)
    assert message in capsys.readouterr().err


def test_flags_become_the_configs(runs):
    args = train_model.parse_args(
        ["train", "--arch", "tutorial", "--no-augment", "--epochs", "3", "--out", "somewhere"]
    )
    config = train_model.config_from(args, TrainConfig())
    assert (config.arch, config.augment, config.epochs, config.out) == (
        "tutorial",
        False,
        3,
        "somewhere",
    )
    assert config.learning_rate == TrainConfig().learning_rate and config.extra_data is None
    args = train_model.parse_args(
        ["fine-tune", "my digits", "--holdout", "0.5", "--mnist-mix", "10"]
    )
    config = train_model.config_from(args, FineTuneConfig())
    assert (config.extra_data, config.holdout_fraction, config.mnist_mix) == ("my digits", 0.5, 10)
    assert config.out.startswith(str(runs / "fine-tune-"))
    assert config.personal_share == FineTuneConfig().personal_share


def test_a_dry_run_writes_a_new_run_folder_and_never_into_assets(runs, sample_mnist_path, capsys):
    """The bug this guards against: a run without --out replaced the shipped model."""
    before = shipped()
    assert train_model.main(["train", "--dry-run", "--data", str(sample_mnist_path)]) == 0
    (run,) = runs.iterdir()
    assert run.name.startswith("train-") and (run / "digitpad.keras").is_file()
    assert (
        train_model.main(
            ["train", "--dry-run", "--data", str(sample_mnist_path), "--out", str(ASSETS_DIR)]
        )
        == 2
    )
    assert "holds the shipped model" in capsys.readouterr().err
    assert train_model.main(["ship", str(run)]) == 2
    assert "is a dry run" in capsys.readouterr().err
    assert shipped() == before, "assets/ is as it was"


def test_bad_data_exits_with_a_message(tmp_path, capsys):
    code = train_model.main(
        [
            "train",
            "--dry-run",
            "--data",
            str(tmp_path / "missing.npz"),
            "--out",
            str(tmp_path / "run"),
        ]
    )
    assert code == 2
    assert "pass --data PATH" in capsys.readouterr().err
