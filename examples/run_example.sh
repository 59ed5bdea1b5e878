#!/usr/bin/env bash
# Builds the example against an installed fastctc CMake package and runs it.
#
# Usage: examples/run_example.sh FASTCTC_DIR
#   FASTCTC_DIR: the directory holding fastctcConfig.cmake, e.g.
#   "$(python -m fastctc --cmake-dir)" or <install prefix>/lib/cmake/fastctc
set -euo pipefail

example=$(cd "$(dirname "$0")" && pwd)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT

cmake -S "$example" -B "$build" -Dfastctc_DIR="$1" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" >/dev/null
"$build/ctc_example"
