"""What the page shows, as HTML: pure functions of what was read and explained, no Gradio.

The result panel (:func:`result_panel`) is one block of fixed size, so nothing on the page moves
when an answer arrives: the verdict line, a chart of all ten digits in their order with the top
one marked (the two named, when the model is not sure), and the 28x28 image the model saw.
An unreadable input gets its one line there, in the text's own size, and an empty image slot
instead of a broken picture. Its look is in ``digitpad/app/web/app.css``; browser tests find its
parts by their classes and ``data-`` attributes.
"""

from __future__ import annotations

from html import escape

from digitpad.explain import Explanation
from digitpad.images import png_data_url, to_pixels
from digitpad.reading import Reading
from digitpad.tally import Tally

CHART_DIGITS = range(10)


def result_panel(reading: Reading) -> str:
    """The verdict, the strip of a number's digits, and the chart and what the model saw of the
    digit picked in the strip (the first one not sure, else the first; the only one for a single
    digit). Picking another digit in the strip shows its chart and image: radio buttons and CSS
    (app.css), no round trip to the server."""
    state = panel_state(reading)
    digits = reading.digits
    first = next((i for i, d in enumerate(digits) if not d.sure), 0)
    bodies = [
        f'<div class="dp-body" data-index="{i}">{chart(d)}{show_seen(d)}</div>'
        for i, d in enumerate(digits or (reading,))
    ]
    return (
        f'<div class="dp-result" data-state="{state}" data-digits="{len(digits)}">'
        f'<p class="dp-verdict" role="status" aria-live="polite">{escape(reading.message)}</p>'
        f"{strip(digits, first)}{''.join(bodies)}</div>"
    )


def strip(digits: tuple[Reading, ...], picked: int) -> str:
    """A number's digits as a row of small chips, one to pick (its 28x28 and its digit, "?" for a
    mark that is no digit, marked when the model is not sure of it); an empty row of the same
    height for a single digit."""
    chips = []
    for i, d in enumerate(digits):
        checked = " checked" if i == picked else ""
        image = "" if d.image is None else f'<img src="{png_data_url(to_pixels(d.image))}" alt="">'
        doubt = "" if d.sure else " dp-doubt"
        chips.append(
            f'<input type="radio" name="dp-pick" class="dp-pick" id="dp-pick-{i}" value="{i}"'
            f"{checked}>"
            f'<label for="dp-pick-{i}" class="dp-chip{doubt}" data-digit="{escape(d.text or "?")}">'
            f"{image}<span>{escape(d.text or '?')}</span></label>"
        )
    return f'<div class="dp-digits" role="radiogroup" aria-label="the digits read">{"".join(chips)}</div>'


def panel_state(reading: Reading) -> str:
    """ "sure", "unsure", "empty" (nothing to read) or "problem" (the input can't be read)."""
    if reading.problem:
        return "problem"
    if not reading.each_digit:
        return "empty"
    return "sure" if reading.sure else "unsure"


def chart(reading: Reading) -> str:
    """Ten bars, 0 to 9 in order, as tall as each digit's probability. The top digit is marked
    (``dp-top``) and, when the model is not sure, the runner-up too (``dp-second``)."""
    prediction = reading.prediction
    probabilities = (
        [0.0] * 10 if prediction is None else [float(p) for p in prediction.probabilities]
    )
    marked = {} if prediction is None else {prediction.digit: "dp-top"}
    if prediction is not None and not prediction.sure:
        marked[prediction.runner_up] = "dp-second"
    bars = []
    for digit in CHART_DIGITS:
        p = probabilities[digit]
        mark = marked.get(digit, "")
        label = f'<span class="dp-p" style="bottom:{100 * p:.1f}%">{p:.0%}</span>' if mark else ""
        bars.append(
            f'<div class="dp-bar {mark}" data-digit="{digit}" data-p="{p:.4f}">'
            f'<div class="dp-track"><span class="dp-fill" style="height:{100 * p:.1f}%"></span>'
            f'{label}</div><span class="dp-digit">{digit}</span></div>'
        )
    summary = (
        "no digit read"
        if prediction is None
        else (", ".join(f"{d}: {probabilities[d]:.0%}" for d in CHART_DIGITS))
    )
    return f'<div class="dp-chart" role="img" aria-label="{escape(summary)}">{"".join(bars)}</div>'


def show_seen(reading: Reading) -> str:
    """The 28x28 image the model received, enlarged with its pixels kept square; an empty slot
    of the same size when there is none."""
    if reading.image is None:
        picture = '<div class="dp-blank"></div>'
    else:
        picture = (
            f'<img src="{png_data_url(to_pixels(reading.image))}" width="28" height="28" '
            'alt="the 28x28 image the model read">'
        )
    return f'<figure class="dp-seen">{picture}<figcaption>what the model saw</figcaption></figure>'


def line(text: str, kind: str = "") -> str:
    """One short line of the page (the tally, what a label did), in the text's own size."""
    return f'<p class="dp-line {kind}">{escape(text)}</p>' if text else '<p class="dp-line"></p>'


def tally_line(tally: Tally, remembered: int) -> str:
    """The visitor's tally in a line (:meth:`Tally.describe`), and how many of their digits the
    answers adapt to."""
    text = tally.describe()
    if remembered:
        text += f" Adapted to {remembered} of your digits."
    return line(text)


def why_panel(explanation: Explanation) -> str:
    """ "Why?": the way in (the conversion's steps), where the model looked (the heat map of what
    makes the top digit beat the second, both named), the five training digits it is most like,
    and the visitor's own labelled digits it is like."""
    if explanation.prediction is None:
        steps = show_steps(explanation) if explanation.steps else ""
        return (
            f'<div class="dp-why"><p class="dp-line">{escape(explanation.message)}</p>{steps}</div>'
        )
    digit, rival = explanation.digit, explanation.rival
    heat = png_data_url(explanation.heatmap_image())
    return (
        '<div class="dp-why">'
        f'<p class="dp-why-head">The way in</p>{show_steps(explanation)}'
        f'<p class="dp-why-head">Where it looked</p>'
        f'<figure class="dp-heat" data-digit="{digit}" data-rival="{rival}"><img src="{heat}" '
        f'alt="heat map"><figcaption>what makes it a {digit} rather than a {rival}: the brighter, '
        "the more</figcaption></figure>"
        f'<p class="dp-why-head">What it compared with</p>{show_neighbours(explanation)}'
        f"{show_yours(explanation)}</div>"
    )


def show_steps(explanation: Explanation) -> str:
    """The conversion's steps, a strip of small images, each with its few words."""
    figures = "".join(
        f'<figure class="dp-step"><img src="{png_data_url(step.image)}" alt="">'
        f"<figcaption>{escape(step.caption)}</figcaption></figure>"
        for step in explanation.steps
    )
    return f'<div class="dp-steps">{figures}</div>'


def show_neighbours(explanation: Explanation) -> str:
    """The training digits nearest in the model's features, each with its digit and distance."""
    if not explanation.neighbours:
        return f'<p class="dp-line">{escape(explanation.neighbours_note or "none")}</p>'
    figures = "".join(
        f'<figure class="dp-neighbour" data-digit="{n.digit}"><img src="{png_data_url(n.image)}" '
        f'alt="a training {n.digit}"><figcaption>{n.digit} · {n.distance:.2f}</figcaption></figure>'
        for n in explanation.neighbours
    )
    return (
        '<p class="dp-line">The training digits most like it, to the model (the distance of '
        f'what its classifier reads: 0 is the same):</p><div class="dp-neighbours">{figures}</div>'
    )


def show_yours(explanation: Explanation) -> str:
    """The visitor's own labelled digits the answer is like, when there are any."""
    if not explanation.yours:
        return ""
    mine = "; ".join(
        f"{y.digit} (the model read {y.predicted}), distance {y.distance:.2f}"
        if y.predicted is not None and y.predicted != y.digit
        else f"{y.digit}, distance {y.distance:.2f}"
        for y in explanation.yours
    )
    return f'<p class="dp-line dp-yours">Like digits you labelled: {escape(mine)}.</p>'
