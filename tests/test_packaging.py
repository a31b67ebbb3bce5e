"""What a wheel ships: every file of the package that is not Python is named in
pyproject's package-data (the site's CSS and scripts were left out of wheels)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "dailypapers"


def test_every_data_file_of_the_package_is_in_package_data() -> None:
    with open(ROOT / "pyproject.toml", "rb") as pyproject:
        globs = tomllib.load(pyproject)["tool"]["setuptools"]["package-data"]["dailypapers"]
    data = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"}
    ]
    assert "web/static/site.css" in data
    assert [name for name in data if not any(fnmatch(name, glob) for glob in globs)] == []
