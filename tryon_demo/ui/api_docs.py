"""What the app's programmatic endpoints say about themselves.

Gradio reads each endpoint's docstring for its API page and for its MCP tool description, one
line per argument; these texts are built here so each line can be long without the code being.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar, get_type_hints

_F = TypeVar("_F", bound=Callable[..., object])

PERSON_IMAGE = (
    "Photo of one person, full body, facing the camera: an uploaded file or an http(s) URL. "
    "JPG or PNG, at most 10 MB, at least 300 x 300 px; other formats (WebP, HEIC, ...) and "
    "larger photos are converted and downscaled before sending."
)
GARMENT_IMAGE = (
    "Photo of the garment alone on a plain light background, same rules as human_image. For "
    "kolors-virtual-try-on-v1-5 it may show a top above a bottom in one picture."
)
MODEL_NAME = (
    "kolors-virtual-try-on-v1 (one garment; the default) or kolors-virtual-try-on-v1-5 (also a "
    "top and a bottom together)."
)
CALLBACK_URL = "Optional https URL the API posts every status change to."

_IMAGE_ARGS = {
    "human_image": PERSON_IMAGE,
    "cloth_image": GARMENT_IMAGE,
    "model_name": MODEL_NAME,
    "callback_url": CALLBACK_URL,
}

#: What every reply that creates a task says about the token that proves who created it.
OWNER_TOKEN = (
    "owner_token: this task's ownership token; keep it and pass it to query, which answers only "
    "the task's creator."
)

SUBMIT = (
    "Start a Kolors virtual try-on task and return at once with the API's task JSON (task_id, "
    "task_status) and its owner_token. Follow it with the query tool, passing both; a task "
    "takes 10-60 s.",
    _IMAGE_ARGS,
    "The task JSON: code, message, request_id and data (task_id, task_status, created_at); "
    f"beside them {OWNER_TOKEN}",
)
TRYON = (
    "Dress a person in a garment with the Kolors virtual try-on model and wait for the result "
    "(10-60 s). Use this for a finished picture; use submit and query to manage tasks yourself.",
    _IMAGE_ARGS,
    "The result image (the person wearing the garment) and the final task JSON, with "
    f"{OWNER_TOKEN}",
)
QUERY = (
    "Look up a try-on task by its id and return the API's task JSON: its status (submitted, "
    "processing, succeed or failed), the reason when it failed, and the result image URL when "
    "it succeeded (kept by the API for about 30 days).",
    {
        "task_id": "The task_id that submit returned.",
        "owner_token": "The owner_token that submit (or tryon) returned with that task. Without "
        "it the task is answered as not found, as if it did not exist.",
    },
    "The task JSON: code, message, request_id and data (task_id, task_status, task_status_msg, "
    "task_result.images[].url).",
)


def documented(doc: tuple[str, Mapping[str, str], str]) -> Callable[[_F], _F]:
    """Give a function the docstring Gradio parses (description, ``Args:``, ``Returns:``) and
    real type hints in place of postponed strings, from which Gradio derives the endpoint's
    schema and splits a ``tuple[...]`` return into separate outputs."""
    summary, args, returns = doc

    def apply(fn: _F) -> _F:
        lines = [summary, "", "Args:"]
        lines += [f"    {name}: {text}" for name, text in args.items()]
        lines += ["Returns:", f"    {returns}"]
        fn.__doc__ = "\n".join(lines)
        fn.__annotations__ = get_type_hints(fn)
        return fn

    return apply
