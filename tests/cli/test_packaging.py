"""`pip install .` gives a working `facewatch`: the wheel built from a fresh copy of the repository holds the
CLI's data files and no development-only package, the build leaves the copy as it was, and the installed CLI
(not the checkout) loads the shipped dashboards through importlib.resources."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from tests.support.docs import ROOT

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git to list the tracked files")

PROBE = """
import json, sys
import facewatch_cli
from facewatch_cli.dashboards import SavedObjects
from facewatch_cli.main import main
saved = SavedObjects(None, "face-alerts")
try:
    main(["dashboards", "install", "--help"])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"module": facewatch_cli.__file__, "objects": len(saved.objects), "help_exit": code,
                  "dashboards": saved.dashboards()}))
"""


def fresh_copy(destination: Path) -> list[str]:
    """The tracked files of this checkout (as a fresh clone has them, with uncommitted edits), sorted."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    names = sorted(name for name in listed.decode().split("\0") if name and (ROOT / name).is_file())
    for name in names:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return names


def every_file(directory: Path) -> list[str]:
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*") if path.is_file())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    checkout = tmp_path_factory.mktemp("checkout")
    tracked = fresh_copy(checkout)
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), "."],
        cwd=checkout,
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("facewatch-*.whl")
    return checkout, wheel, tracked


def test_the_build_leaves_the_checkout_as_it_found_it(built: tuple[Path, Path, list[str]]) -> None:
    checkout, _, tracked = built

    assert every_file(checkout) == tracked  # no build/, no *.egg-info


def test_the_wheel_ships_the_cli_data_files_and_no_development_code(built: tuple[Path, Path, list[str]]) -> None:
    _, wheel, _ = built
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}

    assert "facewatch_cli/data/facewatch.ndjson" in names
    assert "facewatch/handlers/detector.py" in names
    assert top_level == {"facewatch", "facewatch_cli", "facewatch_sampler"}


def test_the_installed_cli_loads_the_shipped_dashboards(built: tuple[Path, Path, list[str]], tmp_path: Path) -> None:
    _, wheel, _ = built
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        timeout=120,
    )
    # The installed copy first on the path, this environment's packages for the dependencies; run away from
    # the checkout so that nothing is read from it.
    environment = {**os.environ, "PYTHONPATH": str(site)}
    run = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    *printed, last = run.stdout.strip().splitlines()
    probe = json.loads(last)

    assert Path(probe["module"]).is_relative_to(site)
    assert probe["help_exit"] == 0
    assert "usage: facewatch dashboards install" in "\n".join(printed)
    assert probe["objects"] == len((ROOT / "facewatch_cli" / "data" / "facewatch.ndjson").read_text().splitlines())
    assert probe["dashboards"] == [["facewatch-unknown-faces", "Unknown faces"]]
