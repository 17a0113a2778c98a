"""digitpad.app.view: the result panel's HTML says what was read, marks the right bars, and keeps
its shape whatever happened."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from digitpad import REPO_DIR
from digitpad.app import view
from digitpad.reading import Reading
from digitpad.verdict import Prediction


def bars(html: str) -> list[tuple[str, str, float]]:
    """(digit, mark, probability) of each bar, in the order shown."""
    return [
        (digit, mark.strip(), float(p))
        for mark, digit, p in re.findall(
            r'<div class="dp-bar ([^"]*)" data-digit="(\d)" data-p="([\d.]+)">', html
        )
    ]


def reading(probabilities: list[float]) -> Reading:
    prediction = Prediction(np.asarray(probabilities, np.float32))
    image = np.zeros((28, 28), np.float32)
    image[5:20, 13:15] = 1.0
    return Reading(prediction.verdict, image, prediction)


def test_a_sure_answer_marks_its_digit_among_all_ten_in_order():
    html = view.result_panel(reading([0.0] * 7 + [0.97, 0.03, 0.0]))
    assert 'data-state="sure"' in html and ">7, 97% sure<" in html
    shown = bars(html)
    assert [d for d, _, _ in shown] == [str(d) for d in range(10)]
    assert [d for d, mark, _ in shown if mark] == ["7"] and shown[7][1] == "dp-top"
    assert shown[7][2] == 0.97 and 'style="height:97.0%"' in html
    assert 'src="data:image/png;base64,' in html and "dp-blank" not in html


def test_an_unsure_answer_marks_both_digits_it_names():
    html = view.result_panel(reading([0, 0, 0.4, 0, 0, 0, 0.55, 0, 0, 0.05]))
    assert 'data-state="unsure"' in html and ">not sure: 6 or 2?<" in html
    assert {d: mark for d, mark, _ in bars(html) if mark} == {"6": "dp-top", "2": "dp-second"}


def test_nothing_read_keeps_the_panel_s_shape():
    for state, empty in (
        ("empty", Reading("draw a digit")),
        ("problem", Reading("Can't read that image: <b>x.png</b>", problem=True)),
    ):
        html = view.result_panel(empty)
        assert f'data-state="{state}"' in html
        assert len(bars(html)) == 10 and not any(mark for _, mark, _ in bars(html))
        assert "dp-blank" in html and "<img" not in html, "an empty slot, no broken picture"
    assert "&lt;b&gt;x.png&lt;/b&gt;" in view.result_panel(
        Reading("Can't read that image: <b>x.png</b>", problem=True)
    ), "text is escaped"


def test_a_line():
    assert view.line("3 < 4") == '<p class="dp-line ">3 &lt; 4</p>'
    assert view.line("") == '<p class="dp-line"></p>'


def test_a_number_shows_a_strip_of_its_digits_and_the_first_doubtful_one_picked(predictor):
    from digitpad import reading as read
    from digitpad.numbers import MAX_DIGITS
    from harness import number_value

    number = read.read_sketch(predictor, number_value("2026"))
    unsure = replace(number.digits[2], prediction=Prediction(np.full(10, 0.1, np.float32)))
    doubtful = replace(number, digits=(*number.digits[:2], unsure, number.digits[3]))
    html = view.result_panel(doubtful)
    assert html.count('class="dp-pick"') == 4 and html.count('class="dp-body"') == 4
    assert 'id="dp-pick-2" value="2" checked' in html, "the doubtful digit is picked first"
    assert html.count("checked") == 1 and 'data-digit="?"' in html and "dp-doubt" in html
    css = (REPO_DIR / "digitpad" / "app" / "web" / "app.css").read_text()
    for i in range(MAX_DIGITS):  # each digit of the longest number can be picked and shown
        assert f'#dp-pick-{i}:checked) .dp-body[data-index="{i}"]' in css
    single = view.result_panel(read.read_sketch(predictor, number_value("7")))
    assert 'data-digits="0"' in single and "dp-pick" not in single and "dp-digits" in single


def test_why_names_both_digits_and_shows_the_steps_and_neighbours(predictor):
    from digitpad.explain import explain_digit
    from digitpad.strokes import read_drawing
    from harness import pad_value

    explanation = explain_digit(predictor, read_drawing(pad_value(7)))
    html = view.why_panel(explanation)
    rival = explanation.rival
    assert f"what makes it a 7 rather than a {rival}" in html
    assert html.count('class="dp-step"') == len(explanation.steps) >= 4
    assert html.count('class="dp-neighbour"') == 5
    nothing = view.why_panel(explain_digit(predictor, read_drawing('{"strokes": [[[0.5, 0.5]]]}')))
    assert "dp-heat" not in nothing and "only a dot" in nothing
