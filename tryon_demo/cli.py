"""Command line: ``python -m tryon_demo simulate | submit | query | list | prepare``.

Exit codes: 0 success, 1 the API or the task failed, 2 bad input or settings.

Each command imports only what it uses: ``prepare`` needs neither HTTP nor the simulator (whose
FastAPI alone takes half a second to import), so those are imported where they are used.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, InputError, TryOnError, UnsafeURLError
from .images import ImageLimits, prepare_image
from .settings import DEFAULT_MODEL, MODELS, Settings, load_settings

if TYPE_CHECKING:
    from .models import Task


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
        print("Stopped.", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tryon_demo", description=__doc__)
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
        faults=faults,
    )
    try:
        server = SimulatorServer(config, host=args.host, port=args.port).start()
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot listen on {args.host}:{args.port}: {exc.strerror}."
        ) from None
    print(f"Simulated Kolors try-on API on {server.url}", file=sys.stderr)
    print(f"  gateway base: {server.gateway_base}   official base: {server.url}", file=sys.stderr)
    print("  Ctrl+C to stop.", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    finally:
        server.stop()


def _submit(args: argparse.Namespace) -> int:
    from .service import make_client, mode_banner, prepare_submission

    settings = _settings()
    limits = ImageLimits.from_settings(settings)
    submission = prepare_submission(
        args.human, args.cloth, args.model, args.callback_url, limits=limits
    )
    with make_client(settings) as client:
        if not args.json:
            print(mode_banner(settings), file=sys.stderr)
            print("Request: " + json.dumps(submission.preview(), indent=2), file=sys.stderr)
        task = client.submit_body(submission.body)
        if not args.wait:
            _emit(args, task.raw, f"Task {task.task_id}: {task.task_status}")
            return 0
        started = time.monotonic()
        for update in client.wait(task.task_id):
            task = update
            if not args.json:
                print(f"  {time.monotonic() - started:5.1f} s  {task.task_status}", file=sys.stderr)
        saved = (
            _save_result(task, args.out, client.base_url) if args.out and task.result_url else None
        )
        summary = f"Task {task.task_id}: {task.task_status}"
        if task.task_status == "failed":
            summary += f" ({task.task_status_msg or 'no reason given'})"
        elif task.result_url:
            summary += (
                f"\nResult: {task.result_url}"
                "\n(links expire after about 30 days: download what you keep)"
            )
        if saved:
            summary += f"\nSaved: {saved}"
        _emit(args, task.raw, summary)
        return 0 if task.task_status == "succeed" else 1


def _query(args: argparse.Namespace) -> int:
    from .service import make_client

    with make_client(_settings()) as client:
        task = client.get(args.task_id)
    _emit(args, task.raw, _describe(task))
    return 0


def _list(args: argparse.Namespace) -> int:
    from .service import make_client

    with make_client(_settings()) as client:
        tasks = client.list(args.page, args.size)
    text = "\n".join(_describe(t) for t in tasks) or "No tasks."
    _emit(args, [t.raw for t in tasks], text)
    return 0


def _prepare(args: argparse.Namespace) -> int:
    settings = _settings()
    prepared = prepare_image(args.image, field="Image", limits=ImageLimits.from_settings(settings))
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

    from .netpolicy import download

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
        raise TryOnError(
            f"Task {task.task_id} succeeded but its result link does not point to a public "
            "http(s) address, so it was not downloaded."
        ) from None
    except requests.RequestException:
        raise TryOnError(
            f"The task succeeded but its result could not be downloaded from {task.result_url}."
        ) from None
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
    print(f"Error: {exc}", file=sys.stderr)
