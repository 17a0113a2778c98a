"""The page's layout: the Draw and Photo tabs, the result panel, the answer buttons, the tally,
and "How it works". Components only; their events are digitpad.app.events'.

The pad's script and styles are files in ``digitpad/app/web/``; :func:`drawing_pad` fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from digitpad import ASSETS_DIR, strokes
from digitpad.app import view
from digitpad.app.gradio_internals import pass_upload_path
from digitpad.labelling import RIGHT
from digitpad.reading import NO_SKETCH, Reading
from digitpad.tally import Tally
from digitpad.verdict import DIGITS

EXAMPLES_DIR = ASSETS_DIR / "examples"
EXAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
WEB_DIR = Path(__file__).resolve().parent / "web"  # the pad's script and the page's styles
PAD_WIDTH = strokes.PAD_SIZE  # px, the drawing column
DRAW, PHOTO = "draw", "photo"  # the tabs, and which input a label is about
WHY_PROMPT = 'Click "Why?" to see how the model read what you drew or showed.'
# The training report's figures the page shows (digitpad.training.figures writes them).
REPORT_FIGURES = (
    ("history.png", "How it learnt: accuracy and loss, epoch by epoch, on what it trained on "
     "and on digits it never trained on"),
    ("confusion.png", "Which digits it mistakes for which, on MNIST's 10,000 test digits"),
    ("misclassified.png", "The test digits it read wrong, with its two best guesses"),
)  # fmt: skip


@dataclass
class Page:
    """The components events read and write."""

    sketch: Any
    photo: Any
    draw_tab: Any
    photo_tab: Any
    result: Any  # the verdict, the chart and what the model saw (digitpad.app.view)
    answers: Any  # the row of answer buttons, shown when there is a digit to label
    buttons: list[tuple[Any, str]]  # (button, answer)
    labelled: Any
    tally: Any
    forget: Any  # "Forget my digits"
    typed: Any  # "Or type the number": a whole number's answer
    label_typed: Any  # its button
    picked: Any  # hidden: the digit of a number picked in the result panel's strip
    ask_why: Any  # "Why?"
    why: Any  # its answer (digitpad.app.view.why_panel)
    why_view: Any  # the accordion it opens
    tab_in_view: Any  # gr.State: which tab, so which input, the answer buttons label


# --- page content --------------------------------------------------------------------------------


def find_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """The example images shipped in assets/examples/, in name order."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


def how_it_works(metrics: dict | None) -> str:
    """The "how it works" note: what the model learned from, and how it scores (metrics.json)."""
    training = (metrics or {}).get("training", {})
    if metrics and "test_accuracy" in metrics:
        accuracy = (
            f"On the {metrics['n_test']:,} MNIST test digits, which it never trained on, "
            f"it reads **{metrics['test_accuracy']:.2%}** right "
            f"({metrics.get('test_errors', 0):,} mistakes)."
        )
    else:
        accuracy = "Its test accuracy is not recorded (no metrics.json beside the model)."
    return f"""\
**What it learned from.** {trained_on(training)} {accuracy}

**What it sees.** Your drawing or photo is **converted to look like MNIST** before the model
sees it: the digit is found (specks and uneven lighting are ignored; dark ink on light or light
ink on dark both work), cropped, scaled so that its long side is 20 pixels, a much too thick or
thin stroke is brought to MNIST's width, and it is centred by its centre of mass. "What the
model saw" shows the result. A number is first split into its digits, left to right: by its
strokes on the pad, by its ink in a photo, the model itself judging where a split is unclear.

**When it is not sure.** When its top two answers are close it says **not sure** and names
both, instead of guessing; for something that is no digit at all it says **not sure it is a
digit**.
"""


def trained_on(training: dict) -> str:
    """What the model was trained on, in plain words, from the training record."""
    digits = (
        training.get("n_train", 0) - training.get("n_outliers", 0) - training.get("n_styled", 0)
    )
    if digits <= 0:
        return "The model is a small convolutional network trained on MNIST's handwritten digits."
    parts = [
        f"{digits:,} handwritten digits from MNIST (the classic collection of digits "
        "written by American students and Census Bureau staff)"
    ]
    if training.get("n_styled"):
        parts.append(
            f"{training['n_styled']:,} of them drawn again on a pad like this one, half "
            "in the styles MNIST lacks (slashed zeros, continental ones, crossed sevens)"
        )
    if training.get("n_outliers"):
        parts.append(
            f"{training['n_outliers']:,} scribbles, hatchings and shapes that are no "
            "digit, so that it learns to say so"
        )
    return "The model, a small convolutional network, was trained on " + "; ".join(parts) + "."


def web_file(name: str, **values: object) -> str:
    """A file of ``digitpad/app/web/`` with its ``__NAME__`` placeholders filled in."""
    text = (WEB_DIR / name).read_text()
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", str(value))
    return text


# --- the inputs ----------------------------------------------------------------------------------


def drawing_pad() -> gr.HTML:
    """The pad (digitpad/app/web/pad.*) as a ``gr.HTML`` component; its ``change`` event fires on
    every pen lift, undo and clear, with the strokes as its value."""
    return gr.HTML(
        value="", label="Draw a digit", elem_id="sketchpad",
        html_template=web_file("pad.html"),
        css_template=web_file("pad.css", pad_size=strokes.PAD_SIZE),
        js_on_load=web_file("pad.js", radius=repr(strokes.PEN_RADIUS), min_step=repr(strokes.MIN_STEP)),
    )  # fmt: skip


def photo_input() -> gr.Image:
    """Upload, webcam or paste: the file path goes to the handler, whatever the file holds.

    ``gr.Image(type="filepath")`` still opens the file, so an upload that is not an image would
    fail inside Gradio with a bare "Error"; the path is handed over unopened instead
    (digitpad.app.gradio_internals.pass_upload_path) and
    the handler says what is wrong. ``image_mode=None`` keeps an example's transparency: in RGB,
    Gradio's copy of a transparent PNG is one flat colour. (Not a subclass: Gradio writes a
    ``.pyi`` stub beside any module that defines a component class.)
    """
    photo = gr.Image(
        label="A photo of a digit on paper",
        sources=["upload", "webcam", "clipboard"],
        type="filepath",
        image_mode=None,
        height=PAD_WIDTH,
        elem_id="photo",
    )
    return pass_upload_path(photo)


# --- the layout ----------------------------------------------------------------------------------


def input_column(examples: list[Path]) -> tuple[Any, Any, Any, Any]:
    """The Draw and Photo tabs: (sketch, photo, draw tab, photo tab)."""
    with gr.Column(scale=0, min_width=PAD_WIDTH):
        with gr.Tabs():
            with gr.Tab("Draw", id=DRAW) as draw_tab:
                sketch = drawing_pad()
            with gr.Tab("Photo", id=PHOTO) as photo_tab:
                photo = photo_input()
                if examples:
                    gr.Examples(
                        examples=[[str(p)] for p in examples],
                        inputs=[photo],
                        label="Examples: tap one",
                        examples_per_page=len(examples),
                        elem_id="examples",
                    )
    return sketch, photo, draw_tab, photo_tab


def output_column(collect_dir: Path | None, owner: int) -> dict[str, Any]:
    """The result panel, then the answer buttons (for the digit picked, in a number), a box to
    type a whole number in, what a label did, the tally, "Forget my digits", and what the page
    keeps."""
    with gr.Column(scale=1, min_width=300):
        result = gr.HTML(view.result_panel(Reading(NO_SKETCH)), elem_id="result")
        ask_why = gr.Button("Why?", size="sm", min_width=0, elem_id="why")
        with gr.Column(elem_id="labelling"):
            with gr.Row(elem_id="answers", equal_height=True) as answers:
                right = gr.Button(
                    "Right", variant="primary", size="sm", min_width=0, elem_id="answer-right"
                )
                buttons = [(right, RIGHT)] + [
                    (gr.Button(d, size="sm", min_width=0, elem_id=f"answer-{d}"), d) for d in DIGITS
                ]
            with gr.Row(elem_id="typed-answer", equal_height=True):
                typed = gr.Textbox(
                    show_label=False,
                    placeholder="or type the number it is",
                    max_lines=1,
                    scale=1,
                    min_width=120,
                    elem_id="number-answer",
                )
                label_typed = gr.Button(
                    "Label", size="sm", scale=0, min_width=80, elem_id="answer-typed"
                )
            picked = gr.Textbox(visible=False, elem_id="picked")
            labelled = gr.HTML(view.line(""), elem_id="labelled")
            tally = gr.HTML(view.tally_line(Tally(), 0), elem_id="tally")
            forget = gr.Button("Forget my digits", size="sm", elem_id="forget")
            gr.HTML(view.line(collect_note(collect_dir, owner)), elem_id="collect-note")
    return {
        "result": result,
        "answers": answers,
        "buttons": buttons,
        "labelled": labelled,
        "tally": tally,
        "forget": forget,
        "typed": typed,
        "label_typed": label_typed,
        "picked": picked,
        "ask_why": ask_why,
    }


def collect_note(folder: Path | None, owner: int = 0) -> str:
    """What the page says about what it keeps, plainly, under the buttons."""
    note = (
        "Your answers stay in this page's session, to adapt the answers to your hand, and are "
        "gone when you close it: nothing is saved."
        if folder is None
        else "Saving is on: each digit you label here is saved, your drawing or photo with its "
        "label, on the computer that runs this app, to teach the model your handwriting."
    )
    if owner:
        note += (
            f" This app adapts its answers to its owner's handwriting, from {owner} digits "
            "they saved."
        )
    return note


# --- the page's events ---------------------------------------------------------------------------


# --- the API -------------------------------------------------------------------------------------


# --- serving -------------------------------------------------------------------------------------


def lay_out(
    examples: list[Path], collect_dir: Path | None, owner: int, metrics: dict | None
) -> Page:
    """The page's components, inside a ``gr.Blocks``: the intro, the input tabs and the result
    column side by side, and "How it works"; ``owner`` is how many of the app owner's saved
    digits every session adapts to."""
    gr.Markdown(
        "# digitpad\nDraw a digit, or a number of up to 12 digits, or show a photo of one: "
        "the model reads it each time you lift the pen.",
        elem_id="intro",
    )
    with gr.Row(equal_height=False):
        sketch, photo, draw_tab, photo_tab = input_column(examples)
        outputs = output_column(collect_dir, owner)
    with gr.Accordion("Why this answer?", open=False, elem_id="why-view") as why_view:
        why = gr.HTML(view.line(WHY_PROMPT), elem_id="why-panel")
    with gr.Accordion("How it works", open=False):
        gr.Markdown(how_it_works(metrics), elem_id="how-it-works")
        report_figures()
    return Page(
        sketch,
        photo,
        draw_tab,
        photo_tab,
        **outputs,
        why=why,
        why_view=why_view,
        tab_in_view=gr.State(DRAW),
    )


def report_figures(folder: Path = ASSETS_DIR) -> None:
    """The training report's figures from ``assets/``, each with a plain line: how it learnt.
    Gradio serves each from its cache (a gr.Image), not embedded in every session's page."""
    with gr.Row(elem_id="report-figures", equal_height=False):
        for name, line in REPORT_FIGURES:
            if (folder / name).is_file():
                gr.Image(
                    str(folder / name),
                    label=line,
                    interactive=False,
                    buttons=[],
                    elem_classes=["dp-figure"],
                )
