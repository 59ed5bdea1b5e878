"""The C/C++ package that the installation ships: header, shared library, CMake config."""

from __future__ import annotations

import ctypes
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import fastctc
from fastctc.__main__ import main

# Where the wheel puts the shared library, inside the package (pyproject.toml's
# CMAKE_INSTALL_* settings); Windows keeps the DLL beside the extension module.
SHARED_LIBRARY = {
    "linux": "lib/libfastctc.so",
    "darwin": "lib/libfastctc.dylib",
    "win32": "fastctc.dll",
}


def test_get_include_holds_the_c_api_header() -> None:
    header = Path(fastctc.get_include()) / "fastctc" / "ctc.h"
    assert "fastctc_ctc_loss_f32" in header.read_text()


def test_get_cmake_dir_holds_a_package_config_of_this_version() -> None:
    cmake_dir = Path(fastctc.get_cmake_dir())
    assert (cmake_dir / "fastctcConfig.cmake").is_file()
    # CMake versions are the numeric release of the Python version (0.2.0 for 0.2.0rc1).
    release = re.match(r"\d+(\.\d+)*", fastctc.__version__)
    assert release is not None
    version_file = (cmake_dir / "fastctcConfigVersion.cmake").read_text()
    assert f'set(PACKAGE_VERSION "{release.group()}")' in version_file


@pytest.mark.parametrize(
    ("flag", "function"),
    [("--include-dir", fastctc.get_include), ("--cmake-dir", fastctc.get_cmake_dir)],
)
def test_command_line_prints_the_directories(
    flag: str, function: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([flag])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"{function()}\n"


@pytest.mark.skipif(sys.platform not in SHARED_LIBRARY, reason="no known library name here")
def test_shared_library_exports_the_c_api() -> None:
    library = ctypes.CDLL(str(Path(fastctc.__file__).parent / SHARED_LIBRARY[sys.platform]))
    library.fastctc_version.restype = ctypes.c_char_p
    library.fastctc_status_string.restype = ctypes.c_char_p
    assert library.fastctc_version().decode() == fastctc.__version__
    assert library.fastctc_status_string(2).startswith(b"workspace too small")
