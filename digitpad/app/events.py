"""The page's events: a pen lift, an upload, a tab, an answer button, "Forget my digits".

Private events (the API's endpoints are digitpad.app.api's). The pad's ``change`` event fires on
every pen lift, undo and clear; ``trigger_mode="always_last"`` makes a burst of strokes end with
a reading of the latest drawing, and the pen lifts of every visitor waiting in the queue are read
together, each adapted to that visitor's own labels.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import gradio as gr

from digitpad import labelling, reading
from digitpad.app import view
from digitpad.app.page import DRAW, PHOTO, WHY_PROMPT, Page
from digitpad.app.serving import Serving
from digitpad.app.sessions import Sessions, Visitor
from digitpad.explain import explain_digit
from digitpad.labelling import Labelling
from digitpad.tally import Tally


def wire_page(page: Page, serving: Serving) -> None:
    """A pen lift, an upload or a tab coming into view reads that input, adapted to what the
    visitor labelled (private events: the API's endpoints are wire_api's)."""
    predictor = serving.predictor

    def on_sketch(value: str | None, request: gr.Request) -> str:
        return view.result_panel(reading.read_sketch(predictor, value, serving.memory(request)))

    def on_sketches(values: list[str | None], request: gr.Request) -> tuple[list[str]]:
        # The pen lifts of all the visitors waiting in the queue, read together.
        return ([view.result_panel(r) for r in serving.read_sketches(values, request)],)

    def on_photo(path: str | None, request: gr.Request) -> str:
        return view.result_panel(reading.read_image(predictor, path, serving.memory(request)))

    def on_tab(
        event: gr.SelectData, sketch: str | None, photo: str | None, request: gr.Request
    ) -> tuple[str, str]:
        tab = PHOTO if event.value == "Photo" else DRAW
        return (on_photo(photo, request) if tab == PHOTO else on_sketch(sketch, request)), tab

    together = {"batch": True, "max_batch_size": serving.read_together}
    for source, read, batch in ((page.sketch, on_sketches, together), (page.photo, on_photo, {})):
        source.change(
            read,
            inputs=source,
            outputs=page.result,
            api_visibility="private",
            trigger_mode="always_last",
            show_progress="hidden",
            **batch,
        )
    for tab in (page.draw_tab, page.photo_tab):
        tab.select(
            on_tab,
            inputs=[page.sketch, page.photo],
            outputs=[page.result, page.tab_in_view],
            api_visibility="private",
            show_progress="hidden",
        )


# The digit picked in the result panel's strip (a number's), read in the browser when an answer
# button is clicked: the answer buttons label that digit alone.
PICKED = "document.querySelector('#result input.dp-pick:checked')?.value ?? ''"


def wire_labels(page: Page, serving: Serving) -> None:
    """The answer buttons label the input in view (a number's picked digit), the typed answer the
    whole of it, in the visitor's own record, and show the verdict again, adapted to the new
    label; "Forget my digits" empties the record."""

    def answering(answer: str | None) -> Callable[..., tuple[str, str, str]]:
        def on_answer(
            tab: str, sketch: str | None, photo: str | None, extra: str, request: gr.Request
        ) -> tuple[str, str, str]:
            extra = extra or ""
            if answer is None:  # the typed box: an answer about the whole input
                said, which = extra, None
            else:  # a button: about the digit picked in a number's strip, if any
                said, which = answer, (int(extra) if extra.isdigit() else None)
            done, visitor = answer_in_view(serving, request, tab, sketch, photo, said, which)
            shown = read_in_view(serving, request, tab, sketch, photo)
            return (
                view.result_panel(shown),
                view.tally_line(visitor.tally, len(visitor.labels)),
                view.line(done.message),
            )

        return on_answer

    inputs = [page.tab_in_view, page.sketch, page.photo]
    outputs = [page.result, page.tally, page.labelled]
    quiet = {"api_visibility": "private", "show_progress": "hidden"}
    js = f"(tab, sketch, photo, picked) => [tab, sketch, photo, {PICKED}]"
    for button, answer in page.buttons:
        button.click(
            answering(answer), inputs=[*inputs, page.picked], outputs=outputs, js=js, **quiet
        )
    for typed_event in (page.label_typed.click, page.typed.submit):
        typed_event(answering(None), inputs=[*inputs, page.typed], outputs=outputs, **quiet)
    page.forget.click(
        forgetting_line(serving.sessions), outputs=[page.tally, page.labelled], **quiet
    )


def forgetting_line(sessions: Sessions) -> Callable[[gr.Request], tuple[str, str]]:
    """ "Forget my digits": the visitor's record emptied, and a line saying what was forgotten."""

    def on_forget(request: gr.Request) -> tuple[str, str]:
        labelled = len(sessions.get(request.session_hash).labels)
        sessions.forget(request.session_hash)
        said = (
            f"Forgotten: your {labelled} digit{'s' if labelled != 1 else ''}; the answers no "
            "longer adapt to them."
            if labelled
            else "Nothing to forget: you have labelled no digits."
        )
        return view.tally_line(Tally(), 0), view.line(said)

    return on_forget


def answer_in_view(
    serving: Serving,
    request: gr.Request,
    tab: str,
    sketch: str | None,
    photo: str | None,
    answer: str | None,
    which: int | None = None,
) -> tuple[Labelling, Visitor]:
    """Label the input of the tab in view (a drawing that can't be read says why)."""
    source, problem = (photo, None) if tab == PHOTO else reading.parse_sketch(sketch)
    if problem:
        return Labelling(problem), serving.sessions.get(request.session_hash)
    return label_in(serving, request, source, answer, which)


def read_in_view(
    serving: Serving, request: gr.Request, tab: str, sketch: str | None, photo: str | None
) -> reading.Reading:
    """The input of the tab in view, read as a pen lift or an upload reads it."""
    memory = serving.memory(request)
    if tab == PHOTO:
        return reading.read_image(serving.predictor, photo, memory)
    return reading.read_sketch(serving.predictor, sketch, memory)


def label_in(
    serving: Serving,
    request: gr.Request,
    source: object,
    answer: str | None,
    which: int | None = None,
) -> tuple[Labelling, Visitor]:
    """Label ``source`` (``which``: one digit of a number alone) in the visitor's record: their
    earlier answer about the same input, if any, is looked up first, so that the same answer
    counts once and a new one replaces it."""
    sessions, session = serving.sessions, request.session_hash
    key = labelling.fingerprint(source) + ("" if which is None else f"/{which}")
    previous = sessions.get(session).labels_of(key)
    done = labelling.label(
        serving.predictor,
        serving.folder,
        source,
        answer,
        previous,
        serving.memory(request),
        which,
    )
    if not done.labels:
        return done, sessions.get(session)
    return done, sessions.update(session, lambda visitor: visitor.add_labels(key, done.labels))


def forgetting(sessions: Sessions) -> Callable[[gr.Request], None]:
    """The page's unload event: the visitor closed the tab, and their record goes with it."""

    def forget(request: gr.Request) -> None:
        sessions.forget(request.session_hash)

    return forget


def wire_why(page: Page, serving: Serving) -> None:
    """ "Why?" explains the input in view (a number's picked digit) and opens its view: computed
    on request only, never on a pen lift; a new pen lift, upload or tab asks for it again."""

    def on_why(
        tab: str, sketch: str | None, photo: str | None, picked: str, request: gr.Request
    ) -> tuple[str, gr.Accordion]:
        source, problem = (photo, None) if tab == PHOTO else reading.parse_sketch(sketch)
        if problem or source is None:
            said = problem or "Nothing to explain yet: draw a digit or show a photo first."
            return view.line(said), gr.Accordion(open=True)
        position = int(picked) if (picked or "").isdigit() else 0
        explanation = explain_digit(serving.predictor, source, position, serving.memory(request))
        return view.why_panel(explanation), gr.Accordion(open=True)

    page.ask_why.click(
        on_why,
        inputs=[page.tab_in_view, page.sketch, page.photo, page.picked],
        outputs=[page.why, page.why_view],
        js=f"(tab, sketch, photo, picked) => [tab, sketch, photo, {PICKED}]",
        api_visibility="private",
        show_progress="hidden",
    )
    # A new drawing or photo: the view asks again, in the browser alone (no request).
    prompt = f"() => {json.dumps(view.line(WHY_PROMPT))}"
    for source in (page.sketch, page.photo):
        source.change(None, outputs=page.why, js=prompt, api_visibility="private")
