"""How the page is served: theme, CSS, limits and privacy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from ..hosting import access, callback_inbox
from ..hosting.body_limit import BodyLimitMiddleware, UploadBudget
from ..hosting.callback_route import callback_routes
from ..settings import Settings, load_settings
from ..text.messages import text
from .common import ASSETS, WORKDIR, T
from .owner import owner_options

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
.step-title h3 {margin:0 !important}
.rules {font-size:.85rem; opacity:.85}
#run-row {align-items:flex-end}
#run-row > button {min-height:42px; align-self:flex-end}
.block.state {padding:8px 12px; border-radius:8px; background:var(--block-background-fill);
  border-left:4px solid var(--border-color-primary)}
.block.state:has(span.md:empty) {display:none}
#status.block {min-height:2.6em; display:block}
.block.state-error {background:#fef2f2 !important; color:#991b1b;
  border-left-color:#dc2626 !important}
.block.state-error .prose {color:#991b1b !important}
.block.state-done {background:#f0fdf4 !important; border-left-color:#16a34a !important}
.block.state-busy {border-left-color:#6366f1 !important}
.block.check {font-size:.85rem; padding:4px 10px !important}
.block.check:has(span.md:empty) {display:none}
#run-row {gap:10px}
#run-row > #run-button, #run-row > #cancel-button {white-space:nowrap; padding:0 10px}
#model-name input {font-size:.9rem; text-overflow:ellipsis}
#result-link code {word-break:break-all; white-space:pre-wrap}
#api-panel .cm-editor {max-height:300px}
#history-table {font-size:.85rem}
#history-table img {max-height:56px; width:auto; border-radius:4px}
#lookbook-controls, #attach-row {align-items:flex-end}
#lookbook-controls > button, #attach-row > button {max-height:44px; min-height:40px}
footer {display:none !important}
/* Gradio turns its accordion's down arrow a quarter clockwise when closed, so it points left;
   point it right instead, the way a closed section reads. */
.label-wrap .icon {transform:rotate(-90deg) !important}
.label-wrap.open .icon {transform:rotate(0) !important}
@media (max-width: 640px) {
  /* A phone: the two pictures, then Run and the status, then the result; rules, examples
     and the outfit composer after them. The columns give their children to one flex list. */
  #main-row {display:flex; flex-direction:column}
  #main-row > .column {display:contents}
  #result-column > * {order:2}
  #result-column > #run-row, #result-column > #status {order:1}
  #main-row .rules, #people-examples, #garment-examples, #outfit {order:3}
  #example-result {display:none !important}
  #run-row {flex-wrap:wrap}
  #run-row > * {flex:1 1 100% !important}
  #more-tabs button[role=tab] {padding:6px 10px}
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
    auth = (settings.access_user, settings.access_password) if settings.access_password else None
    message = text("page.auth_message")
    # /metrics, /owner/usage.json and the /owner page: the owner's password, never the visitors'.
    owner = owner_options(settings)
    return {
        "auth": auth,
        "auth_message": message,
        # The password on every route, MCP included, and a brake on guessing it; then Gradio
        # reads JSON bodies whole before looking at them, so huge ones are refused first.
        "app_kwargs": {
            "middleware": [
                owner.guard,
                *access.access_middleware(settings, message),
                Middleware(
                    BodyLimitMiddleware,
                    uploads=UploadBudget(settings.upload_budget_bytes),
                    address=access.scope_address(settings.trusted_proxies),
                ),
            ],
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
        "theme": gr.themes.Soft(primary_hue="indigo", neutral_hue="slate").set(
            button_primary_background_fill="*primary_600",
            button_primary_background_fill_hover="*primary_700",
            button_primary_text_color="white",
        ),
        "css": CSS,
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
