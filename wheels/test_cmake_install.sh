#!/usr/bin/env bash
# Builds the C/C++ library alone with plain CMake (no Python, no Cython),
# installs it into a fresh prefix, then builds and runs the example program
# against that installation through find_package(fastctc).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "--- cmake: configure, build and install the C/C++ library"
cmake -S "$repo" -B "$work/build" >/dev/null
cmake --build "$work/build" --parallel 2 >/dev/null
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
(cd "$work/prefix" && find . -type f -o -type l | sort)

echo "--- the example against the installation"
# GNUInstallDirs picks lib or lib64 by platform: take the config where it went.
"$repo/examples/run_example.sh" "$(dirname "$(find "$work/prefix" -name fastctcConfig.cmake)")"
