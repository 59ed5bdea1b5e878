"""The command line: ``python -m fastctc {demo} [options]``, and flags that print and exit:
``--version``, ``--show-config``, ``--include-dir`` and ``--cmake-dir`` (for C/C++ builds,
e.g. ``cmake -Dfastctc_DIR="$(python -m fastctc --cmake-dir)"``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

import fastctc


def _demo(args: argparse.Namespace) -> int:
    from fastctc.demo import run_demo

    result = run_demo(epochs=args.epochs, train_size=args.train_size, seed=args.seed)
    return 0 if result.epoch_losses[-1] < result.epoch_losses[0] else 1


class _PrintAndExit(argparse.Action):
    """A flag that, like --version, runs a function that prints, then exits."""

    def __init__(
        self, option_strings: list[str], dest: str, *, run: Callable[[], None], **kwargs: Any
    ) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)
        self.run = run

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        self.run()
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fastctc", description=fastctc.__doc__)
    parser.add_argument("--version", action="version", version=f"fastctc {fastctc.__version__}")
    flags = {
        "--show-config": (fastctc.show_config, "print the build and runtime configuration"),
        "--include-dir": (lambda: print(fastctc.get_include()), "print the C header directory"),
        "--cmake-dir": (lambda: print(fastctc.get_cmake_dir()), "print the CMake config directory"),
    }
    for flag, (run, help_text) in flags.items():
        parser.add_argument(flag, action=_PrintAndExit, run=run, help=help_text)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train a toy digit recogniser with the CTC loss")
    demo.add_argument("--epochs", type=int, default=12, help="training epochs (default 12)")
    demo.add_argument("--train-size", type=int, default=2000, help="training utterances")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
