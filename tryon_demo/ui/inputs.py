"""The two input columns: the person and the garment (with the outfit composer), each with a
note that says at once what Run will make of the picture chosen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.i18n import I18nData

from ..errors import TryOnError
from ..flow import outfit
from ..flow.check import check_picture
from ..settings import MODELS
from ..text.messages import msg, text
from .a11y import example_names, reveal_after
from .common import (
    ASSETS,
    PIECE_KINDS,
    SEED_EXAMPLE_URLS,
    Context,
    T,
    lang_of,
    pick_source,
    visitor_of,
)
from .components import OriginalImage
from .run_result import PICTURE_HEIGHT, RunControls, status_update
from .shrink import SHRINK_CLASS


@dataclass
class Inputs:
    """The pictures and links a run reads, and the outfit composer's parts."""

    human: OriginalImage
    human_url: gr.Textbox
    human_note: gr.Markdown
    cloth: OriginalImage
    cloth_url: gr.Textbox
    cloth_note: gr.Markdown
    top_image: OriginalImage
    bottom_image: OriginalImage
    top_kind: gr.Dropdown
    bottom_kind: gr.Dropdown
    compose: gr.Button


def build_person_column() -> tuple[OriginalImage, gr.Textbox, gr.Markdown]:
    """The first column: the person's picture, a link field, the rules and examples."""
    image, link, note = _image_step(T("step_person"), T("person_photo"), "human", T("person_rules"))
    people = sorted(str(p) for p in (ASSETS / "people").glob("*.jpg"))
    gr.Examples(
        people,
        inputs=[image],
        label=T("example_people"),
        cache_examples=False,
        examples_per_page=8,
        elem_id="people-examples",
    )
    example_names(people)
    return image, link, note


def build_garment_column(person: tuple[OriginalImage, gr.Textbox, gr.Markdown]) -> Inputs:
    """The second column: the garment's picture, examples and the outfit composer."""
    cloth, cloth_url, cloth_note = _image_step(
        T("step_garment"), T("garment_photo"), "cloth", T("garment_rules")
    )
    garments = sorted(str(p) for p in (ASSETS / "garments").glob("*.png"))
    gr.Examples(
        garments,
        inputs=[cloth],
        label=T("example_garments"),
        cache_examples=False,
        examples_per_page=8,
        elem_id="garment-examples",
    )
    example_names(garments)
    with gr.Accordion(T("outfit"), open=False, elem_id="outfit"):
        gr.Markdown(T("outfit_help"), elem_classes="rules")
        with gr.Row():
            top_image = OriginalImage(
                label=T("first_piece"),
                type="filepath",
                height=200,
                placeholder=str(T("upload_image")),
                sources=["upload", "clipboard"],
                elem_id="outfit-top",
            )
            bottom_image = OriginalImage(
                label=T("second_piece"),
                type="filepath",
                height=200,
                placeholder=str(T("upload_image")),
                sources=["upload", "clipboard"],
                elem_id="outfit-bottom",
            )
        # One under the other unless the column is wide: half a column would put the arrow
        # over "one-piece (dress, jumpsuit)".
        with gr.Row():
            top_kind = gr.Dropdown(
                PIECE_KINDS,
                value="top",
                label=T("first_kind"),
                min_width=280,
                elem_id="outfit-top-kind",
            )
            bottom_kind = gr.Dropdown(
                PIECE_KINDS,
                value="bottom",
                label=T("second_kind"),
                min_width=280,
                elem_id="outfit-bottom-kind",
            )
        compose = gr.Button(T("compose"), elem_id="compose-button")
    human, human_url, human_note = person
    return Inputs(
        human,
        human_url,
        human_note,
        cloth,
        cloth_url,
        cloth_note,
        top_image,
        bottom_image,
        top_kind,
        bottom_kind,
        compose,
    )


def _image_step(
    title: I18nData, label: I18nData, key: str, rules: I18nData
) -> tuple[OriginalImage, gr.Textbox, gr.Markdown]:
    """One image step: the upload (file, webcam, clipboard), its note, a link field, rules."""
    gr.Markdown(title, elem_classes="step-title")
    image = OriginalImage(
        label=label,
        sources=["upload", "webcam", "clipboard"],
        type="filepath",
        height=PICTURE_HEIGHT,
        # The page's own words for the upload area: Gradio's own ("Drop Image Here") stay in
        # the language the area was first drawn in.
        placeholder=str(T("upload_image")),
        elem_id=f"{key}-image",
        elem_classes=[SHRINK_CLASS],  # shrunk in the browser before it is uploaded
    )
    note = gr.Markdown(elem_id=f"{key}-check", elem_classes=["check"])
    link = gr.Textbox(label=T("link"), placeholder="https://…", elem_id=f"{key}-url", max_lines=1)
    gr.Markdown(rules, elem_classes="rules")
    return image, link, note


async def check_note(
    ctx: Context, path: str | None, field: str, choice: str | None, request: gr.Request
) -> Any:
    """The note under a picture just chosen: refused and why, or what Run will do with it."""
    if not path or path.startswith("data:"):
        return gr.Markdown(value="", elem_classes=["check"])
    lang = lang_of(request, choice)
    try:
        said = await check_picture(
            ctx.pipeline, path, msg(field), visitor=visitor_of(request, ctx.settings)
        )
    except TryOnError as exc:  # the admission's own refusal (the lookup rate)
        return gr.Markdown(value=exc.as_msg().markdown(lang), elem_classes=_ERROR_NOTE)
    classes = _ERROR_NOTE if said.key == "check.refused" else ["check", "state", "state-done"]
    return gr.Markdown(value=said.markdown(lang), elem_classes=classes)


_ERROR_NOTE = ["check", "state", "state-error"]


def _checker(ctx: Context, field: str) -> Any:
    """The check handler for one picture (Gradio finds the request by its annotation)."""

    async def check(path: str | None, choice: str | None, request: gr.Request) -> Any:
        return await check_note(ctx, path, field, choice, request)

    return check


def wire_inputs(
    ctx: Context, inputs: Inputs, controls: RunControls, status: gr.Markdown, language: Any
) -> None:
    """Checks on choosing a picture, one source per image, the seed links and the composer."""
    for image, link, note, field in (
        (inputs.human, inputs.human_url, inputs.human_note, "field.person"),
        (inputs.cloth, inputs.cloth_url, inputs.cloth_note, "field.garment"),
    ):
        image.change(
            _checker(ctx, field),
            [image, language],
            [note],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )
        # One source per image: an upload clears the link and a typed link clears the upload.
        image.upload(lambda: "", None, link, api_visibility="private", queue=False)
        link.input(lambda: None, None, image, api_visibility="private", queue=False)

    def seed_links(choice: str | None, request: gr.Request) -> tuple[Any, ...]:
        """The API documentation's example links; offline, a word that they give a placeholder
        (the simulator downloads nothing)."""
        said = text("page.seed_links_offline", lang_of(request, choice)) if ctx.offline else ""
        note = status_update(said, None) if said else gr.skip()
        return (*SEED_EXAMPLE_URLS, None, None, note)

    controls.seed_links.click(
        seed_links,
        [language],
        [inputs.human_url, inputs.cloth_url, inputs.human, inputs.cloth, status],
        api_visibility="private",
        queue=False,
    )

    async def compose_pieces(
        first: str | None,
        second: str | None,
        first_kind: str,
        second_kind: str,
        choice: str | None,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        lang = lang_of(request, choice)
        try:
            path = await outfit.compose(
                ctx.pipeline,
                pick_source(first, "", msg("field.top_garment")),
                pick_source(second, "", msg("field.bottom_garment")),
                (first_kind, second_kind),
                visitor=visitor_of(request, ctx.settings),
            )
        except TryOnError as exc:
            said = text("page.outfit_failed", lang) + f"\n\n{exc.as_msg().markdown(lang)}"
            return gr.skip(), gr.skip(), gr.skip(), status_update(said, "error")
        composed = status_update(text("page.outfit_composed", lang), "done")
        return str(path), "", MODELS[1], composed

    composed = inputs.compose.click(
        compose_pieces,
        [inputs.top_image, inputs.bottom_image, inputs.top_kind, inputs.bottom_kind, language],
        [inputs.cloth, inputs.cloth_url, controls.model, status],
        api_visibility="private",
    )
    # The composer sits far below the status it reports in (and the garment it fills).
    reveal_after(composed, "status")
