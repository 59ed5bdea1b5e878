"""Where the installed package keeps its C/C++ side, for programs that embed the core.

A wheel (and ``pip install``) installs the C API header, the shared library and
a CMake package config inside the package; a C/C++ build finds them here, as
with pybind11's functions of the same names.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).parent


def _installed(directory: Path, marker: str) -> str:
    if not (directory / marker).is_file():
        raise FileNotFoundError(
            f"{directory / marker} does not exist: this fastctc was not installed with its "
            "C/C++ package (an editable install or a bare source tree has none)"
        )
    return str(directory)


def get_include() -> str:
    """The directory that holds ``fastctc/ctc.h``, the C API: add it to the include path."""
    return _installed(_PACKAGE_DIR / "include", "fastctc/ctc.h")


def get_cmake_dir() -> str:
    """The directory that holds ``fastctcConfig.cmake``.

    Configure a CMake project with ``-Dfastctc_DIR=<this directory>``; then
    ``find_package(fastctc)`` and ``target_link_libraries(app PRIVATE fastctc::fastctc)``
    build it against the shared library this package ships.
    """
    return _installed(_PACKAGE_DIR / "lib" / "cmake" / "fastctc", "fastctcConfig.cmake")
