#!/usr/bin/env bash
# Builds the fastctc wheel, installs it into a fresh virtual environment and runs the
# test suite against that installation, from outside the source tree, so that nothing
# the source checkout holds (src/, a build folder) can stand in for the installed package.
#
# Usage: wheels/test_wheel.sh [extra packages for the test environment, e.g. torch==2.13.0]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- building the wheel"
python -m venv "$work/build-env"
"$work/build-env/bin/pip" install --quiet build
"$work/build-env/bin/python" -m build --wheel --outdir "$work/dist" "$repo"

echo "--- installing it into a fresh environment"
python -m venv "$work/test-env"
"$work/test-env/bin/pip" install --quiet "$work/dist"/fastctc-*.whl "pytest>=7" "$@"

echo "--- running the tests against the installed wheel"
cp -r "$repo/tests" "$work/tests"
cp "$repo/pyproject.toml" "$work/pyproject.toml"  # the pytest settings (strict, warnings as errors)
cd "$work"
"$work/test-env/bin/python" - <<'PY'
import fastctc, sys
if "site-packages" not in fastctc.__file__:
    sys.exit(f"fastctc was imported from {fastctc.__file__}, not from the installed wheel")
print("testing", fastctc.__file__)
PY
"$work/test-env/bin/python" -m pytest -q tests
