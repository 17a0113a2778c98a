"""digitpad.training.report: the numbers in metrics.json on inputs small enough to check by hand, the
printed report, and every figure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitpad.training import figures, report

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def one_hot(digits: list[int], p: float = 0.95) -> np.ndarray:
    probs = np.full((len(digits), 10), (1 - p) / 9, np.float32)
    probs[np.arange(len(digits)), digits] = p
    return probs


def test_classification_metrics_by_hand():
    y_true = np.array([0, 0, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 0])
    per_class, confusion = report.classification_metrics(y_true, y_pred)
    assert confusion[0].tolist()[:3] == [1, 1, 0] and confusion[2, 0] == 1 and confusion.sum() == 5
    assert per_class["0"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert per_class["1"] == {"precision": round(2 / 3, 5), "recall": 1.0, "f1": 0.8, "support": 2}
    assert per_class["2"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert per_class["9"]["support"] == 0


def test_the_test_set_scores():
    labels = np.array([3, 3, 7, 1])
    probs = one_hot([3, 3, 7, 7])
    probs[3] = one_hot([7], p=0.6)[0]  # wrong, and not sure
    metrics = report.score_test_set(probs, labels)
    assert (
        metrics["test_accuracy"] == 0.75 and metrics["test_errors"] == 1 and metrics["n_test"] == 4
    )
    expected_loss = -(3 * math.log(0.95) + math.log(0.4 / 9)) / 4
    assert metrics["test_loss"] == pytest.approx(expected_loss, abs=1e-5)
    assert metrics["sure"] == {"share": 0.75, "right_when_sure": 1.0, "wrong_but_sure": 0}
    assert np.array(metrics["confusion_matrix"])[1, 7] == 1


def test_sure_answers_count_the_wrong_but_sure():
    sure = report.sure_answers(one_hot([1, 2, 3]), np.array([1, 2, 4]))
    assert sure == {"share": 1.0, "right_when_sure": round(2 / 3, 5), "wrong_but_sure": 1}
    none_sure = report.sure_answers(one_hot([1], p=0.5), np.array([1]))
    assert none_sure["share"] == 0.0 and none_sure["right_when_sure"] is None


def test_the_printed_report(capsys):
    metrics = report.score_test_set(one_hot([0, 1, 2]), np.array([0, 1, 2]))
    metrics["not_digits"] = {"letters": {"sure_share": 0.2, "trained_on_family": False}}
    report.print_report(metrics)
    printed = capsys.readouterr().out
    assert "precision" in printed and "test accuracy: 1.0000 (0 errors in 3)" in printed
    assert "answered 'sure': 100.00% of the test digits, 100.00% of them right" in printed
    assert "letters 20.0% (a family never trained on)" in printed


def test_the_not_digit_check_with_the_shipped_model(predictor):
    counts, seen = report.not_digit_check(predictor.model, per_family=8)
    assert set(counts) == {"scribbles", "hatching", "shapes", "letters"}
    for family, row in counts.items():
        assert row["n"] == 8 and 0 <= row["sure"] <= 8
        assert row["sure_share"] == round(row["sure"] / 8, 5)
        assert row["trained_on_family"] == (family != "letters")
        images, probs = seen[family]
        assert images.shape == (8, 28, 28) and probs.shape == (8, 10)


def test_the_style_check_and_its_figure(tmp_path, sample):
    """Against an oracle that knows every label: all right, all sure, nothing to name."""
    labels_of = {}

    def oracle(images):
        return one_hot([labels_of[image.tobytes()] for image in images], p=0.99)

    from digitpad.training.styles import make_styled

    x, y, _ = make_styled(
        sample.x_test,
        sample.y_test,
        19 * 3,
        0,
        held_out=True,
        styles=(*__import__("digitpad.training.styles").training.styles.STYLES, "as written"),
    )
    labels_of.update({image.tobytes(): int(label) for image, label in zip(x, y)})
    rows, (images, labels, names, probs) = report.style_check(oracle, sample, 3)
    assert rows["all styles"] == {
        "n": 54,
        "accuracy": 1.0,
        "sure_share": 1.0,
        "wrong_but_sure": 0,
        "named_right": None,
    }
    assert rows["as written"]["n"] == 3 and set(names) == set(rows) - {"all styles"}
    table = report.format_style_table(rows)
    assert table.splitlines()[1].startswith("0 slashed") and "100.00%" in table
    figures.plot_styles(tmp_path / "styles.png", images, labels, names, probs)
    assert (tmp_path / "styles.png").read_bytes()[:8] == PNG_MAGIC


def test_a_style_row_by_hand():
    probs = np.concatenate([one_hot([7, 7]), one_hot([1], p=0.6), one_hot([9])])
    probs[2, 7] = 0.3  # unsure between 1 and 7: names the right digit
    row = report.style_row(probs, np.array([7, 7, 7, 7]))
    assert row == {
        "n": 4,
        "accuracy": 0.5,
        "sure_share": 0.75,
        "wrong_but_sure": 1,
        "named_right": 0.5,
    }
