"""The version, one for every face of the package, and show_config's report."""

from __future__ import annotations

import importlib.metadata
import io
import sys
from pathlib import Path

import pytest

import fastctc
from fastctc import _config, _ctc
from fastctc.__main__ import main


def test_one_version_for_the_metadata_the_module_and_the_native_library() -> None:
    assert fastctc.__version__ == importlib.metadata.version("fastctc")
    assert fastctc.__version__ == _ctc.version()


def test_command_line_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"fastctc {fastctc.__version__}\n"


def report() -> dict[str, str]:
    """show_config's lines, "name:  value", as a dict."""
    stream = io.StringIO()
    fastctc.show_config(file=stream)
    pairs = (line.split(":", 1) for line in stream.getvalue().splitlines())
    return {name: value.strip() for name, value in pairs}


def test_show_config_reports_the_build() -> None:
    info = report()
    assert list(info) == ["fastctc", "compiler", "OpenMP", "SIMD level", "CUDA", "Python", "NumPy"]
    assert info["fastctc"].startswith(f"{fastctc.__version__} in ")
    assert info["compiler"].split()[0] in {"GNU", "Clang", "AppleClang", "MSVC"}
    assert info["OpenMP"].startswith("OpenMP ") and "unknown" not in info["OpenMP"]
    assert info["SIMD level"] == _ctc.simd_level()
    assert info["CUDA"] == (
        f"built ({_config.CUDA_MODULE})" if _config.cuda_built() else "not built"
    )


@pytest.mark.skipif(sys.platform == "win32", reason="Windows does not tell which DLL it loaded")
def test_show_config_names_the_openmp_runtime_file_in_use() -> None:
    runtime = Path(_ctc.openmp_library())
    assert runtime.is_file()
    assert "omp" in runtime.name  # libgomp, libomp, or the wheel's renamed copy of either
    assert runtime.name in report()["OpenMP"]


def test_cuda_counts_as_built_when_its_module_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_config, "CUDA_MODULE", "fastctc._api")  # a module that exists
    assert report()["CUDA"] == "built (fastctc._api)"


def test_command_line_shows_the_config(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--show-config"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    fastctc.show_config()
    assert printed == capsys.readouterr().out
