"""Checks what the sdist and the repaired wheel hold.

The sdist must hold exactly the files git tracks, less the folders that
pyproject.toml's sdist.exclude leaves out (CI machinery), plus PKG-INFO: so
nothing needed to build and test is missing, and no build folder, compiled
file or stray local file slips in. The wheel must hold the Python package, the
C/C++ package (header, shared library, CMake config) and the OpenMP runtime
that auditwheel vendored, and nothing else vendored; both must carry the
version pyproject.toml gives.

Usage: python wheels/check_dists.py REPO DISTDIR   (Python 3.11+, for tomllib)
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import tomllib

WHEEL_MUST_HOLD = [
    "fastctc/__init__.py",
    "fastctc/py.typed",
    "fastctc/_ctc.cpython-*.so",
    "fastctc/include/fastctc/ctc.h",
    "fastctc/lib/libfastctc.so",
    "fastctc/lib/cmake/fastctc/fastctcConfig.cmake",
    "fastctc/lib/cmake/fastctc/fastctcConfigVersion.cmake",
]
VENDORED_MAY_BE = ["fastctc.libs/libgomp-*.so*"]


def only(paths: list[Path]) -> Path:
    if len(paths) != 1:
        sys.exit(f"expected one file, found {[p.name for p in paths]}")
    return paths[0]


def check_sdist(repo: Path, sdist: Path, version: str, excluded: list[str]) -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.split()
    expected = {f for f in tracked if not any(f.split("/")[0] == x for x in excluded)}
    top = f"fastctc-{version}/"
    with tarfile.open(sdist) as tar:
        names = [m.name for m in tar.getmembers() if m.isfile()]
    errors = [f"sdist: {n} lies outside {top}" for n in names if not n.startswith(top)]
    held = {n.removeprefix(top) for n in names} - {"PKG-INFO"}
    errors += [f"sdist lacks {f}, which git tracks" for f in sorted(expected - held)]
    errors += [f"sdist holds {f}, which git does not track" for f in sorted(held - expected)]
    return errors


def check_wheel(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    errors = []
    if "manylinux" not in wheel.name:
        errors.append(f"{wheel.name} has no manylinux tag")
    for pattern in WHEEL_MUST_HOLD + VENDORED_MAY_BE:
        if not fnmatch.filter(names, pattern):
            errors.append(f"wheel lacks {pattern}")
    vendored = [n for n in names if n.startswith("fastctc.libs/")]
    errors += [
        f"wheel vendors {n} unexpectedly"
        for n in vendored
        if not any(fnmatch.fnmatch(n, p) for p in VENDORED_MAY_BE)
    ]
    return errors


def main(repo: Path, dist_dir: Path) -> int:
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    excluded = pyproject["tool"]["scikit-build"]["sdist"]["exclude"]
    sdist = only(sorted(dist_dir.glob("fastctc-*.tar.gz")))
    wheel = only(sorted(dist_dir.glob("fastctc-*.whl")))
    errors = [
        f"{d.name} does not carry version {version}"
        for d in (sdist, wheel)
        if not d.name.startswith(f"fastctc-{version}")
    ]
    errors += check_sdist(repo, sdist, version, excluded) + check_wheel(wheel)
    for error in errors:
        print(error, file=sys.stderr)
    if not errors:
        print(f"{sdist.name}: the tracked files; {wheel.name}: the package, C/C++ and libgomp")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
