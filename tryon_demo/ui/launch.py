"""How the page is served: theme, CSS, limits and privacy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..hosting import access, callback_inbox, header_timeout, http_layer, workfiles
from ..hosting.callback_route import callback_routes
from ..settings import Settings, load_settings
from ..text.messages import text
from .a11y import PAGE_JS
from .common import ASSETS, WORKDIR, T
from .owner import owner_options

#: Gradio's Soft theme in indigo, darkened where its text falls short of WCAG AA (4.5:1): its
#: labels, tab names and upload hints are indigo 500 (#6366f1: 3.6:1 on the labels' light
#: indigo, 4.5:1 on white) and its "- or -" and placeholders slate 400 (2.6:1). Indigo 700 and
#: slate 600 read at 6.4:1 and more. Text fields show focus only by a soft drop shadow; a solid
#: ring shows a keyboard user where they are.
THEME = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate").set(
    button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700",
    button_primary_text_color="white",
    color_accent="*primary_700",
    block_label_text_color="*primary_700",
    block_title_text_color="*primary_700",
    body_text_color_subdued="*neutral_600",
    input_placeholder_color="*neutral_500",
    input_border_color_focus="*primary_600",
    input_shadow_focus="0 0 0 2px *primary_600",
)

CSS = """
#app-header {align-items:center; justify-content:space-between; gap:8px}
#app-header > #header {flex:1 1 0 !important; min-width:min(100%, 280px) !important}
#app-header > #mode {flex:0 0 auto !important; width:auto !important; min-width:0 !important}
#app-header > #language {flex:0 0 auto !important; width:7.5rem !important; min-width:0 !important}
#app-header h1 {margin:0; font-size:1.5rem}
#app-header p {margin:2px 0 0; opacity:.75}
.mode-banner {padding:6px 14px; border-radius:999px; font-weight:600; font-size:.9rem;
  white-space:nowrap}
.mode-offline {background:#fff4cc; color:#6b4e00; border:1px solid #f0d36b}
.mode-online {background:#dcfce7; color:#14532d; border:1px solid #86efac}
.step-title {margin-bottom:0 !important}
/* The steps are h2 under the page's h1 (no level skipped), drawn at the size they had as h3. */
.step-title h2 {margin:0 !important; font-size:1rem !important; line-height:1.3}
.example-names {display:none !important}
/* Gradio draws a block's label top-left and its icon buttons (copy, download, fullscreen,
   clear: up to three) top-right, one over the other in a narrow column: the label stops short
   of where three icons reach, and wraps instead. (Counting each block's icons with :has()
   would fit closer, but made the page take twice as long to appear.) */
label[data-testid=block-label] {max-width:calc(100% - 5.75rem)}
/* A dropdown's arrow is drawn over the end of its text field: the text stops before it (the
   columns are wide enough for every choice at the sizes the page is made for; narrower, the
   choice ends in "…" rather than under the arrow). */
input[role=combobox] {padding-right:1.5rem !important; text-overflow:ellipsis}
.rules {font-size:.85rem; opacity:.85}
#run-row {align-items:flex-end}
#run-row > button {min-height:42px; align-self:flex-end}
.block.state {padding:8px 12px; border-radius:8px; background:var(--block-background-fill);
  border-left:4px solid var(--border-color-primary)}
.block.state:has(span.md:empty) {display:none}
#status.block {min-height:2.6em; display:block}
/* Brought into view after an action far below it (see a11y.reveal_js): not flush with the
   screen's edge. */
#status {scroll-margin:16px}
.block.state-error {background:#fef2f2 !important; color:#991b1b;
  border-left-color:#dc2626 !important}
.block.state-error .prose {color:#991b1b !important}
.block.state-done {background:#f0fdf4 !important; border-left-color:#16a34a !important}
.block.state-busy {border-left-color:#6366f1 !important}
/* A photo being shrunk in the browser before its upload (shrink.js), for a moment. */
.tryon-shrinking {cursor:progress; opacity:.6; transition:opacity .2s}
.block.check {font-size:.85rem; padding:4px 10px !important}
.block.check:has(span.md:empty) {display:none}
#run-row {gap:10px}
#run-row > #run-button, #run-row > #cancel-button {white-space:nowrap; padding:0 10px}
#model-name input {font-size:.9rem; text-overflow:ellipsis}
#result-link code {word-break:break-all; white-space:pre-wrap}
#api-panel .cm-editor {max-height:300px}
#history-table {font-size:.85rem}
#history-table img {max-height:56px; width:auto; border-radius:4px}
/* A gallery's label floats over its first picture (a result's SIMULATED strip is there): the
   pictures start below it. */
#lookbook-garments .grid-container, #lookbook-results .grid-container {padding-top:2.25rem}
#lookbook-controls, #attach-row {align-items:flex-end}
#lookbook-controls > button, #attach-row > button {max-height:44px; min-height:40px}
footer {display:none !important}
/* Gradio turns its accordion's down arrow a quarter clockwise when closed, so it points left;
   point it right instead, the way a closed section reads. */
.label-wrap .icon {transform:rotate(-90deg) !important}
.label-wrap.open .icon {transform:rotate(0) !important}
@media (max-width: 640px) {
  /* A phone: the three columns one under the other, in reading order: the person and the
     garment, each with its examples, then the result (an example until the first run), Run
     and the status, and the API panel under them. */
  #human-image, #cloth-image {height:280px !important}  /* Run is a shorter scroll away */
  #run-row {flex-wrap:wrap}
  #run-row > * {flex:1 1 100% !important}
  #more-tabs button[role=tab] {padding:6px 10px}
  /* Gradio keeps a gallery's columns at 100 px or more, so six scroll sideways off a phone:
     three to a row, every garment and result in view. */
  #lookbook-garments .grid-container, #lookbook-results .grid-container
    {grid-template-columns:repeat(3, minmax(0, 1fr))}
  #app-header h1 {font-size:1.25rem}
}
"""


def launch_options(workdir: Path = WORKDIR, settings: Settings | None = None) -> dict[str, Any]:
    """What ``demo.launch`` needs: theme and CSS (the Gradio 6 way), limits and privacy.

    ``workdir`` must be the folder given to ``build_demo``: results are served from it.
    With ``TRYON_ACCESS_PASSWORD`` set, the page asks for it (user name ``TRYON_ACCESS_USER``).
    """
    settings = settings or load_settings()
    access.trust_forwarded_headers_here_only()
    workfiles.serve(workdir)  # history thumbnails may name files in it
    # Beneath the HTTP layer: connections that never finish their request headers are closed.
    header_timeout.install(settings.header_timeout)
    auth = (settings.access_user, settings.access_password) if settings.access_password else None
    message = text("page.auth_message")
    # /metrics, /owner/usage.json and the /owner page: the owner's password, never the visitors'.
    owner = owner_options(settings)
    return {
        "auth": auth,
        "auth_message": message,
        # Every request passes the HTTP layer first, in the order declared there.
        "app_kwargs": {
            # The owner's guard before all of it: the owner's paths are its own to open (404
            # without TRYON_OWNER_PASSWORD), never the visitors' password's.
            "middleware": [owner.guard, *http_layer.http_middleware(settings, message)],
            # POST /callbacks/<token>: where the API's callbacks wake the runs waiting on them.
            "routes": [
                *callback_routes(callback_inbox.shared(), settings.trusted_proxies),
                *owner.routes,
            ],
            "lifespan": owner.lifespan,
        },
        # Without server-side rendering no Node proxy sits between the visitor and this app,
        # so the X-Forwarded-For hops TRYON_TRUSTED_PROXIES counts are the same everywhere.
        "ssr_mode": False,
        "theme": THEME,
        "css": CSS,
        "js": PAGE_JS,
        "i18n": T,
        # The browser would otherwise keep a history of every run's inputs, the API key field
        # included, in its local storage.
        "run_history": False,
        "footer_links": [],
        "max_file_size": "100mb",
        "allowed_paths": [str(workdir), str(ASSETS)],
        "show_error": False,
        # TRYON_MCP_SERVER switches the tools on; otherwise Gradio's own GRADIO_MCP_SERVER decides.
        "mcp_server": True if settings.mcp_server else None,
    }
