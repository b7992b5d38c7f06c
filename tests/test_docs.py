"""The README and the docs/ pages stay true: every setting is documented, every command runs.

Each command in a ``bash`` block of README.md or docs/*.md is checked the way it can be checked
here: the CLI and the app are run for real (offline, on loopback), the test and check commands
are checked to exist. A documented command this file does not know fails the test, so a new
command in the docs comes with a way to check it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests import pictures

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tryon_demo"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONFIGURATION = ROOT / "docs" / "configuration.md"
#: The app's own settings: every environment variable of these families the package reads.
SETTING = re.compile(r"\b(?:TRYON|KLING)_[A-Z0-9_]+\b")
#: Variables that belong to Gradio or Hugging Face, documented only where the app reads them.
GRADIO_SETTING = re.compile(r"\bGRADIO_[A-Z0-9_]+\b")


def _package_sources() -> Iterator[Path]:
    return (p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _settings_in_code() -> set[str]:
    names: set[str] = set()
    for path in _package_sources():
        names.update(re.findall(r'"((?:TRYON|KLING)_[A-Z0-9_]+)"', path.read_text()))
    settings = (PACKAGE / "settings.py").read_text()
    names.update(re.findall(r'"(GRADIO_[A-Z0-9_]+)"', settings))
    return names


def test_every_setting_the_code_reads_is_in_the_configuration_page() -> None:
    documented = CONFIGURATION.read_text()
    missing = sorted(name for name in _settings_in_code() if name not in documented)
    assert not missing, f"add these to docs/configuration.md: {missing}"


def test_every_setting_in_the_configuration_table_is_read_by_the_code() -> None:
    code = "".join(p.read_text() for p in _package_sources())
    rows = [line for line in CONFIGURATION.read_text().splitlines() if line.startswith("| `")]
    named = {name for row in rows for name in SETTING.findall(row.split("|")[1])}
    stale = sorted(name for name in named if f'"{name}"' not in code)
    assert not stale, f"docs/configuration.md documents settings nothing reads: {stale}"


def test_the_readme_is_a_page_a_newcomer_reads_to_the_end() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    assert "http://127.0.0.1:7860" in readme  # the port, next to the command that serves it
    assert "bash scripts/test.sh" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_links_between_the_docs_pages_lead_somewhere() -> None:
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|png))(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


# --- the commands ---------------------------------------------------------------------------


def documented_commands() -> list[tuple[str, str]]:
    """``(page, command)`` for every command in a ``bash`` block, ``&&`` chains split."""
    found: list[tuple[str, str]] = []
    for page in DOCS:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
            for line in block.replace("\\\n", " ").splitlines():
                line = re.sub(r"\s+#.*$", "", line).strip()
                for command in filter(None, (c.strip() for c in line.split("&&"))):
                    found.append((page.name, command))
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _offline_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KLING_", "TRYON_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        TRYON_STATE_DIR=str(tmp / "state"),
        TRYON_SIM_TASK_SECONDS="0.3",
        TRYON_POLL_INTERVAL="0.1",
        **extra,
    )
    return env


def _wait_for(url: str, seconds: float) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Workbench:
    """A folder with the files the docs' examples name, and the servers they start."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        (tmp / "person.jpg").write_bytes(pictures.person_jpeg())
        (tmp / "shirt.png").write_bytes(pictures.garment_png())
        (tmp / "photo.jpg").write_bytes(pictures.person_jpeg())
        self.simulator_port: int | None = None
        self.task_id: str | None = None
        self._servers: list[subprocess.Popen[bytes]] = []

    def serve(self, args: list[str], env: dict[str, str], url: str) -> requests.Response:
        server = subprocess.Popen(
            args, cwd=self.tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._servers.append(server)
        try:
            return _wait_for(url, 90)
        except requests.ConnectionError:
            server.kill()
            _, err = server.communicate()
            raise AssertionError(f"{args} never answered: {err.decode()[-2000:]}") from None

    def simulator_base(self) -> str:
        """The documented ``simulate`` server, started once: ``submit`` in one shell and
        ``query`` in the next go through it, as docs/programmatic.md says."""
        if self.simulator_port is None:
            self.simulator_port = _free_port()
            self.serve(
                [
                    sys.executable,
                    "-m",
                    "tryon_demo",
                    "simulate",
                    "--port",
                    str(self.simulator_port),
                ],
                _offline_env(self.tmp),
                f"http://127.0.0.1:{self.simulator_port}/",
            )
        return f"http://127.0.0.1:{self.simulator_port}/kling"

    def close(self) -> None:
        for server in self._servers:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def pairs(args: list[str]) -> Iterator[tuple[str, str]]:
    """Each argument with the one before it (``""`` for the first)."""
    return zip(["", *args[:-1]], args, strict=True)


def check_requirements_install(bench: Workbench, args: list[str]) -> None:
    files = [args[i + 1] for i, a in enumerate(args) if a == "-r"]
    assert files
    for name in files:
        lines = (ROOT / name).read_text().splitlines()
        pins = [x for x in lines if x and not x.startswith(("#", "-r"))]
        assert all("==" in pin for pin in pins), f"{name}: every package pinned"


def check_app(bench: Workbench, args: list[str]) -> None:
    port = _free_port()
    env = _offline_env(bench.tmp, GRADIO_SERVER_PORT=str(port))
    reply = bench.serve([sys.executable, str(ROOT / "app.py")], env, f"http://127.0.0.1:{port}/")
    assert reply.status_code == 200


def check_script_exists(bench: Workbench, args: list[str]) -> None:
    script = ROOT / args[1]
    assert script.is_file()
    if script.suffix == ".sh":
        subprocess.run(["bash", "-n", str(script)], check=True)
    else:
        compile(script.read_text(), str(script), "exec")


def check_tool(bench: Workbench, args: list[str]) -> None:
    # The tool of the environment running the tests, activated or not.
    tool = shutil.which(args[0], path=str(Path(sys.executable).parent)) or args[0]
    subprocess.run([tool, "--version"], check=True, capture_output=True)


def check_cli(bench: Workbench, args: list[str]) -> None:
    args = [bench.task_id or "" if a == "TASK_ID" else a for a in args]
    if args[3] == "simulate":
        port = str(_free_port())
        args = [port if prev == "--port" else a for prev, a in pairs(args)]
        reply = bench.serve(
            [sys.executable, *args[1:]], _offline_env(bench.tmp), f"http://127.0.0.1:{port}/"
        )
        assert reply.status_code < 500
        return
    env = _offline_env(bench.tmp)
    if args[3] in ("submit", "query", "list"):
        env["KLING_API_BASE"] = bench.simulator_base()
    done = subprocess.run(
        [sys.executable, *args[1:]],
        cwd=bench.tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    if args[3] == "submit":
        found = re.search(r"\b([A-Za-z0-9]{12,})\b", done.stdout)
        assert found, done.stdout
        bench.task_id = found[1]


def check_installed_cli(bench: Workbench, args: list[str]) -> None:
    """``tryon-demo X`` is ``python -m tryon_demo X`` installed (tests/test_install.py runs the
    installed command itself)."""
    check_cli(bench, ["python", "-m", "tryon_demo", *args[1:]])


def check_bench(bench: Workbench, args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, *args[1:], "--help"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    for flag in (a.split("=")[0] for a in args if a.startswith("--")):
        assert flag in done.stdout, flag


def check_curl_at_simulator(bench: Workbench, args: list[str]) -> None:
    base = bench.simulator_base()
    url = next(a for a in args if a.startswith("http"))
    url = re.sub(r"^http://127\.0\.0\.1:\d+/kling", base, url)
    headers = dict(h.split(": ", 1) for prev, h in pairs(args) if prev == "-H")
    body = next(a for prev, a in pairs(args) if prev == "-d")
    reply = requests.post(url, data=body, headers=headers, timeout=30)
    envelope = reply.json()
    assert "code" in envelope and "request_id" in envelope, envelope


CHECKS: list[tuple[re.Pattern[str], Callable[[Workbench, list[str]], None]]] = [
    (re.compile(r"^python -m pip install( -r \S+)+$"), check_requirements_install),
    (re.compile(r"^python app\.py$"), check_app),
    (re.compile(r"^(bash|python) scripts/\w+\.(sh|py)\b"), check_script_exists),
    (re.compile(r"^(ruff check \.|ruff format --check \.|mypy)$"), check_tool),
    (re.compile(r"^python -m tryon_demo \w+"), check_cli),
    (re.compile(r"^tryon-demo \w+"), check_installed_cli),
    (re.compile(r"^python -m benchmarks\.\w+"), check_bench),
    (re.compile(r"^curl -X POST \S+"), check_curl_at_simulator),
]


def test_every_documented_command_has_a_check() -> None:
    unknown = [
        f"{page}: {command}"
        for page, command in documented_commands()
        if not any(pattern.search(command) for pattern, _ in CHECKS)
    ]
    assert not unknown, f"add a check for these to tests/test_docs.py: {unknown}"


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workbench]:
    workbench = Workbench(tmp_path_factory.mktemp("docs"))
    yield workbench
    workbench.close()


def test_every_documented_command_runs(bench: Workbench) -> None:
    """In the order the pages give them, so ``query TASK_ID`` follows the ``submit``."""
    for page, command in documented_commands():
        args = shlex.split(command)
        check = next((c for pattern, c in CHECKS if pattern.search(command)), None)
        if check is None:
            continue  # reported by the test above
        try:
            check(bench, ["python", *args[1:]] if args[0] == "python" else args)
        except (AssertionError, subprocess.CalledProcessError, requests.RequestException) as exc:
            raise AssertionError(f"{page}: `{command}` does not run: {exc}") from exc


def test_the_examples_in_the_docs_parse() -> None:
    for page in DOCS:
        text = page.read_text()
        for block in re.findall(r"```json\n(.*?)```", text, re.S):
            json.loads(block)
        for block in re.findall(r"```python\n(.*?)```", text, re.S):
            compile(block, page.name, "exec")
