#!/usr/bin/env bash
# Installs a built fastctc into a fresh virtual environment and tests what got
# installed, from outside the source tree, so that nothing the checkout holds
# (src/, a build folder) can stand in for it: the test suite, then the C/C++
# package through the example program. Given an sdist, pip builds it there
# from source first, as it does for a user whose platform has no wheel.
#
# Usage: wheels/test_install.sh DIST [extra packages for the test environment]
#   DIST: a fastctc wheel or sdist; extra packages, e.g. torch==2.13.0
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dist=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- installing $(basename "$dist") into a fresh environment"
python -m venv "$work/test-env"
"$work/test-env/bin/pip" install --quiet "$dist" "pytest>=7" "$@"

echo "--- running the tests against the installation"
cp -r "$repo/tests" "$work/tests"
cp "$repo/pyproject.toml" "$work/pyproject.toml"  # the pytest settings (strict, warnings as errors)
cd "$work"
"$work/test-env/bin/python" - <<'PY'
import fastctc, sys
if "site-packages" not in fastctc.__file__:
    sys.exit(f"fastctc was imported from {fastctc.__file__}, not from the installation")
PY
"$work/test-env/bin/python" -m fastctc --show-config
"$work/test-env/bin/python" -m pytest -q tests

echo "--- the example program against the installed CMake package"
"$repo/examples/run_example.sh" "$("$work/test-env/bin/python" -m fastctc --cmake-dir)"
