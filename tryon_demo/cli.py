"""Command line: ``tryon-demo simulate | submit | query | list | prepare`` (installed with
``pip install -e .``; ``python -m tryon_demo`` is the same command).

Exit codes: 0 success, 1 the API or the task failed, 2 bad input or settings.

With no key, each command starts the built-in simulator inside its own process; its tasks are
kept in the state folder between commands (see :mod:`tryon_demo.simulator.journal`), so a
``query`` or ``list`` finds what an earlier ``submit`` created.

Each command imports only what it uses: ``prepare`` needs neither HTTP nor the simulator (whose
FastAPI alone takes half a second to import), so those are imported where they are used.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, InputError, TryOnError, UnsafeURLError
from .pictures import ImageLimits, prepare_image
from .settings import DEFAULT_MODEL, MODELS, Settings, ensure_state_dir, load_settings
from .text.i18n import Language, choose
from .text.messages import msg, text

if TYPE_CHECKING:
    from .api.client import TryOnClient
    from .api.models import Task
    from .flow.admit import Pass

#: Where the built-in simulator's tasks are kept between commands, inside the state folder.
OFFLINE_TASKS = "offline-simulator"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code: int = args.run(args)
        return code
    except (InputError, ConfigurationError) as exc:
        _fail(args, exc)
        return 2
    except TryOnError as exc:
        _fail(args, exc)
        return 1
    except KeyboardInterrupt:
        print(text("cli.stopped", _lang()), file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tryon-demo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="serve the offline API simulator")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8765)
    sim.add_argument(
        "--task-seconds", type=float, default=3.0, help="time a task takes (default 3)"
    )
    sim.add_argument("--api-key", action="append", help="accept only this bearer key (repeatable)")
    sim.add_argument("--latency", type=float, default=0.0, help="extra seconds per request")
    sim.add_argument("--rate-limit-share", type=float, default=0.0, help="share answered 429/1302")
    sim.add_argument(
        "--server-error-share", type=float, default=0.0, help="share answered 500/5000"
    )
    sim.add_argument("--malformed-share", type=float, default=0.0, help="share answered non-JSON")
    sim.add_argument("--drop-share", type=float, default=0.0, help="share of connections dropped")
    sim.add_argument("--fail-share", type=float, default=0.0, help="share of tasks that fail")
    sim.add_argument("--never-finish", action="store_true", help="tasks stay processing")
    sim.add_argument("--max-concurrent", type=int, default=0, help="tasks at once before 429/1303")
    sim.add_argument(
        "--jwt-secret",
        action="append",
        metavar="AK:SK",
        help="verify official-API JWTs signed with this access key:secret key (repeatable)",
    )
    sim.add_argument(
        "--echo-credentials",
        action="store_true",
        help="fault for testing redaction: every reply's message, request_id and "
        "task_status_msg repeat the received Authorization value (plain, JSON \\u-escaped, "
        "base64, and the bearer JWT as received)",
    )
    sim.set_defaults(run=_simulate)

    submit = sub.add_parser("submit", help="create a try-on task")
    submit.add_argument("--human", required=True, help="person image: file or http(s) URL")
    submit.add_argument("--cloth", required=True, help="garment image: file or http(s) URL")
    submit.add_argument("--model", default=DEFAULT_MODEL, choices=MODELS)
    submit.add_argument("--callback-url")
    submit.add_argument("--wait", action="store_true", help="wait for the result")
    submit.add_argument(
        "--out", type=Path, help="with --wait: save the result image here (a folder)"
    )
    submit.add_argument("--json", action="store_true", help="print JSON only")
    submit.set_defaults(run=_submit)

    query = sub.add_parser("query", help="show one task")
    query.add_argument("task_id")
    query.add_argument("--out", type=Path, help="save the result image here (a folder)")
    query.add_argument("--json", action="store_true")
    query.set_defaults(run=_query)

    listing = sub.add_parser("list", help="list recent tasks")
    listing.add_argument("--page", type=int, default=1)
    listing.add_argument("--size", type=int, default=30)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=_list)

    prep = sub.add_parser("prepare", help="show what preparation does to an image (JSON)")
    prep.add_argument("image")
    prep.add_argument("--json", action="store_true", default=True, help=argparse.SUPPRESS)
    prep.set_defaults(run=_prepare)
    return parser


def _settings() -> Settings:
    return load_settings()


def _lang() -> Language:
    """The terminal's language: ``TRYON_LANG``, else the POSIX locale (``zh_CN.UTF-8`` -> zh)."""
    for name in ("TRYON_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "").strip()
        if value:
            tag = value.split(".")[0].replace("_", "-")
            return choose(None, "en" if tag in ("C", "POSIX") else tag)
    return "en"


def _jwt_secrets(pairs: list[str]) -> dict[str, str]:
    """``AK:SK`` pairs as an access key -> secret key map."""
    secrets: dict[str, str] = {}
    for pair in pairs:
        access, sep, secret = pair.partition(":")
        if not sep or not access or not secret:
            raise ConfigurationError(msg("cli.jwt_secret_format"))
        secrets[access] = secret
    return secrets


def _simulate(args: argparse.Namespace) -> int:
    from .simulator import Faults, SimulatorConfig, SimulatorServer

    faults = Faults(
        latency=args.latency,
        rate_limit_share=args.rate_limit_share,
        server_error_share=args.server_error_share,
        malformed_share=args.malformed_share,
        drop_share=args.drop_share,
        fail_share=args.fail_share,
        never_finish=args.never_finish,
    )
    config = SimulatorConfig(
        task_seconds=args.task_seconds,
        api_keys=frozenset(args.api_key) if args.api_key else None,
        max_concurrent_tasks=args.max_concurrent,
        jwt_secrets=_jwt_secrets(args.jwt_secret or []),
        echo_credentials=args.echo_credentials,
        faults=faults,
    )
    try:
        server = SimulatorServer(config, host=args.host, port=args.port).start()
    except OSError as exc:
        raise ConfigurationError(
            msg("cli.cannot_listen", host=args.host, port=args.port, reason=exc.strerror)
        ) from None
    lang = _lang()
    print(text("cli.simulator_on", lang, url=server.url), file=sys.stderr)
    bases = text("cli.simulator_bases", lang, gateway=server.gateway_base, official=server.url)
    print(bases, file=sys.stderr)
    print(text("cli.simulator_stop", lang), file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


@contextlib.contextmanager
def _journal(settings: Settings) -> Iterator[None]:
    """With the built-in simulator, the tasks earlier commands created are known for the
    command's length, and this command's tasks are left for the next."""
    from .flow.clients import shared_simulator, uses_built_in_simulator

    if not uses_built_in_simulator(settings):
        yield
        return
    from .simulator import journal

    simulator = shared_simulator(settings).simulator
    folder = ensure_state_dir(settings) / OFFLINE_TASKS
    journal.load(simulator, folder)
    try:
        yield
    finally:
        journal.save(simulator, folder)


def _submit(args: argparse.Namespace) -> int:
    from .flow import prepare
    from .flow.clients import mode_banner
    from .flow.create import create_task

    settings = _settings()
    lang = _lang()

    async def submit() -> int:
        async with await _owner_pass(settings) as passed:
            submission = await prepare.submission(
                passed, args.human, args.cloth, args.model, args.callback_url
            )
            if not args.json:
                print(mode_banner(settings, lang), file=sys.stderr)
                preview = json.dumps(submission.preview(), indent=2)
                print(text("cli.request", lang, json=preview), file=sys.stderr)
            task = await create_task(passed, submission.body)
            if not args.wait:
                said = text("cli.task", lang, task_id=task.task_id, status=task.task_status)
                _emit(args, task.raw, said)
                return 0
            try:
                code = _wait(args, passed.client, task, lang, settings)
            except TryOnError as exc:
                passed.ended("error", exc)
                raise
            passed.ended("succeed" if code == 0 else "failed")
            return code

    with _journal(settings):
        return asyncio.run(submit())


def _wait(
    args: argparse.Namespace, client: TryOnClient, task: Task, lang: Language, settings: Settings
) -> int:
    """Follow ``task`` to its end, printing each change; save the result with ``--out``."""
    started = time.monotonic()
    for update in client.wait(task.task_id):
        task = update
        if not args.json:
            seconds = time.monotonic() - started
            progress = text("cli.progress", lang, seconds=seconds, status=task.task_status)
            print(progress, file=sys.stderr)
    saved = _save_result(task, args.out, client.base_url) if args.out and task.result_url else None
    summary = text("cli.task", lang, task_id=task.task_id, status=task.task_status)
    if task.task_status == "failed":
        reason = task.task_status_msg or text("cli.no_reason", lang)
        summary = text("cli.failed_reason", lang, summary=summary, reason=reason)
    elif task.result_url:
        summary += "\n" + text("cli.result", lang, url=task.result_url)
        offline = _built_in(settings) and not saved
        summary += "\n" + text("cli.offline_result" if offline else "cli.result_expires", lang)
    if saved:
        summary += "\n" + text("cli.saved", lang, path=saved)
    _emit(args, task.raw, summary)
    return 0 if task.task_status == "succeed" else 1


def _query(args: argparse.Namespace) -> int:
    settings = _settings()
    lang = _lang()

    async def query() -> tuple[Task, Path | None]:
        async with await _owner_pass(settings, lookup=True) as passed:
            task = passed.client.get(args.task_id)
            if args.out and task.result_url:
                return task, _save_result(task, args.out, passed.client.base_url)
            return task, None

    with _journal(settings):
        task, saved = asyncio.run(query())
    said = _describe(task)
    if saved:
        said += "\n" + text("cli.saved", lang, path=saved)
    elif task.result_url and _built_in(settings):
        said += "\n" + text("cli.offline_result", lang)
    _emit(args, task.raw, said)
    return 0


def _list(args: argparse.Namespace) -> int:
    settings = _settings()

    async def listing() -> list[Task]:
        async with await _owner_pass(settings, lookup=True) as passed:
            return passed.client.list(args.page, args.size)

    with _journal(settings):
        tasks = asyncio.run(listing())
    listed = "\n".join(_describe(t) for t in tasks) or text("cli.no_tasks", _lang())
    _emit(args, [t.raw for t in tasks], listed)
    return 0


async def _owner_pass(settings: Settings, *, lookup: bool = False) -> Pass:
    """A pass through the app's one admission path, as the machine's owner (no password, no
    visitor limits, the app's queue not shared), for a create or, with ``lookup``, a lookup.

    Its creates are the owner's usage like the page's: recorded in the state folder's usage
    records, which the day's cap counts from (the app's and this process's together)."""
    from .flow.admit import Admission, Door, Need, Visitor
    from .hosting.usage import usage_for

    need = Need.LOOKUP if lookup else Need.CREATE
    admission = Admission.build(settings, usage=usage_for(settings))
    return await admission.enter(Visitor.local_owner(), Door.CLI, need)


def _built_in(settings: Settings) -> bool:
    from .flow.clients import uses_built_in_simulator

    return uses_built_in_simulator(settings)


def _prepare(args: argparse.Namespace) -> int:
    settings = _settings()
    prepared = prepare_image(args.image, limits=ImageLimits.from_settings(settings))
    print(json.dumps(prepared.report.to_dict(), indent=2))
    return 0


def _describe(task: Task) -> str:
    line = f"{task.task_id}  {task.task_status}"
    if task.task_status_msg:
        line += f"  {task.task_status_msg}"
    if task.result_url:
        line += f"  {task.result_url}"
    return line


def _save_result(task: Task, folder: Path, api_base: str) -> Path:
    """Download the result into ``folder``: only from public addresses or the API's own host
    (the simulator's, offline), at most 40 MB, within the settings' connect + read time."""
    import requests

    from .hosting.netpolicy import download

    folder.mkdir(parents=True, exist_ok=True)
    assert task.result_url
    settings = _settings()
    try:
        data = download(
            task.result_url,
            allowed_hosts=(api_base,),
            budget=settings.connect_timeout + settings.read_timeout,
        )
    except UnsafeURLError:
        raise TryOnError(msg("cli.result_not_public", task_id=task.task_id)) from None
    except requests.RequestException:
        raise TryOnError(msg("cli.download_failed", url=task.result_url)) from None
    suffix = ".png" if data[:4] == b"\x89PNG" else ".jpg"
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in task.task_id)[:80]
    path = folder / f"{name}{suffix}"  # the id came from the API: never a path of its own
    path.write_bytes(data)
    return path


def _emit(args: argparse.Namespace, raw: Any, text: str) -> None:
    print(json.dumps(raw, indent=2, ensure_ascii=False) if args.json else text)


def _fail(args: argparse.Namespace, exc: TryOnError) -> None:
    if getattr(args, "json", False):
        print(json.dumps(exc.to_dict(), indent=2, ensure_ascii=False))
    print(text("cli.error", _lang(), message=exc.as_msg()), file=sys.stderr)
