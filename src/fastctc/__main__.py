"""The command line: ``python -m fastctc {demo,align,bench-decode} [options]``, and flags
that print and exit: ``--version``, ``--show-config``, ``--include-dir`` and ``--cmake-dir``
(for C/C++ builds, e.g. ``cmake -Dfastctc_DIR="$(python -m fastctc --cmake-dir)"``)."""

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


def _align(args: argparse.Namespace) -> int:
    from fastctc.align_command import run_align

    try:
        return run_align(args)
    except (ValueError, ImportError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _bench_decode(args: argparse.Namespace) -> int:
    from fastctc.bench.decode import bench_decode

    bench_decode(
        frames=args.frames,
        batch=args.batch,
        classes=args.classes,
        beam_width=args.beam_width,
        threads=args.threads,
        repeats=args.repeats,
        seed=args.seed,
    )
    return 0


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

    from fastctc.align_command import add_arguments

    align = commands.add_parser("align", help="print where each token of a transcript sits")
    add_arguments(align)
    align.set_defaults(run=_align)

    bench = commands.add_parser(
        "bench-decode", help="time beam search against TensorFlow and pyctcdecode"
    )
    bench.add_argument("--frames", type=int, default=200, help="T (default 200)")
    bench.add_argument("--batch", type=int, default=16, help="N (default 16)")
    bench.add_argument("--classes", type=int, default=30, help="C, blank included (default 30)")
    bench.add_argument("--beam-width", type=int, default=16, help="default 16")
    bench.add_argument("--threads", type=int, default=1, help="threads for every decoder")
    bench.add_argument("--repeats", type=int, default=5, help="timed runs (median reported)")
    bench.add_argument("--seed", type=int, default=0, help="random seed of the inputs")
    bench.set_defaults(run=_bench_decode)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
