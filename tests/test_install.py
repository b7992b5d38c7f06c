"""The package installed as a user installs it (``pip install -e .``), into a virtual
environment of its own, and run from a folder that is not the repository: the ``tryon-demo``
command and ``python -m tryon_demo`` work, find their texts, and an offline task submitted by
one command is found by the next."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests import pictures

ROOT = Path(__file__).resolve().parent.parent
STATES = {"submitted", "processing", "succeed"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the package installed editable, nothing downloaded: its
    dependencies are this test run's own (a ``.pth`` file names their folder)."""
    folder = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "test-run-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--editable",
            str(ROOT),
        ],
        check=True,
        cwd=folder,
        timeout=300,
    )
    return folder / "bin"


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KLING_API_BASE")}
    return subprocess.run(
        command,
        cwd=cwd,
        env={**clean, "KLING_API_KEY": "", "LANG": "C.UTF-8", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_and_the_module_work_from_any_folder(venv: Path, tmp_path: Path) -> None:
    helped = run([str(venv / "tryon-demo"), "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "simulate" in helped.stdout and "tryon-demo" in helped.stdout
    photo = tmp_path / "photo.webp"
    photo.write_bytes(pictures.webp())
    prepared = run([str(venv / "python"), "-m", "tryon_demo", "prepare", str(photo)], tmp_path)
    assert prepared.returncode == 0, prepared.stderr
    assert json.loads(prepared.stdout)["final_format"] == "JPEG"


def test_the_installed_command_reads_its_texts_in_both_languages(
    venv: Path, tmp_path: Path
) -> None:
    english = run([str(venv / "tryon-demo"), "query", "not a task id"], tmp_path)
    chinese = run([str(venv / "tryon-demo"), "query", "not a task id"], tmp_path, TRYON_LANG="zh")
    assert english.returncode == 2 and "This is not a task id" in english.stderr
    assert chinese.returncode == 2 and "任务 ID" in chinese.stderr


def test_an_offline_task_is_found_by_the_next_command_without_starting_a_simulator(
    venv: Path, tmp_path: Path
) -> None:
    person, garment = tmp_path / "person.jpg", tmp_path / "garment.png"
    person.write_bytes(pictures.person_jpeg())
    garment.write_bytes(pictures.garment_png())
    env = {"TRYON_STATE_DIR": str(tmp_path / "state"), "TRYON_SIM_TASK_SECONDS": "0.5"}
    tool = str(venv / "tryon-demo")
    made = run(
        [tool, "submit", "--human", str(person), "--cloth", str(garment), "--json"], tmp_path, **env
    )
    assert made.returncode == 0, made.stderr
    task_id = json.loads(made.stdout)["data"]["task_id"]
    found = run([tool, "query", task_id, "--json"], tmp_path, **env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["data"]["task_id"] == task_id
    assert json.loads(found.stdout)["data"]["task_status"] in STATES
    listed = run([tool, "list", "--json"], tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    assert task_id in [task["task_id"] for task in json.loads(listed.stdout)]


def test_the_built_package_carries_its_texts_and_pictures(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"tryon_demo/text/locales/en.json", "tryon_demo/text/locales/zh.json"} <= names
    assert "tryon_demo/assets/ui/no-result.png" in names
    assert "tryon_demo/assets/people/person-chloe.jpg" in names
    assert any(name.startswith("tryon_demo/assets/garments/") for name in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "tryon-demo = tryon_demo.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    packaged = {name.rsplit("/", 1)[0] for name in names if name.endswith("/__init__.py")}
    folders = {
        str(path.parent.relative_to(ROOT)) for path in (ROOT / "tryon_demo").rglob("__init__.py")
    }
    assert folders <= packaged, folders - packaged
