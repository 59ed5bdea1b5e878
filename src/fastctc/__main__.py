"""The command line: ``python -m fastctc {demo,align,bench,bench-decode} [options]``, and flags
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


def _bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from fastctc.bench.loss import run_bench
    from fastctc.bench.problems import DEFAULT_SHAPES, Shape

    shapes = [Shape.parse(text) for text in args.shapes] if args.shapes else list(DEFAULT_SHAPES)
    run_bench(
        shapes,
        threads=args.threads,
        dtype={"float32": np.float32, "float64": np.float64}[args.dtype],
        loss_only=args.loss_only,
        seed=args.seed,
        json_path=Path(args.json) if args.json else None,
        plot_path=Path(args.plot) if args.plot else None,
        skip=args.skip,
    )
    return 0


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
        "bench", help="time the loss and gradient beside every installed peer"
    )
    bench.add_argument(
        "--shapes",
        nargs="+",
        metavar="T,N,C,L[,var]",
        help="shapes to time (var: input and label lengths vary); default: warp-ctc's two "
        "published shapes and two with variable lengths",
    )
    bench.add_argument("--threads", type=int, default=2, help="threads for every implementation")
    bench.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    bench.add_argument("--loss-only", action="store_true", help="time the loss without gradient")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    bench.add_argument(
        "--plot", metavar="FILE.png", help="plot time against batch size for the first shape"
    )
    bench.add_argument("--seed", type=int, default=0, help="random seed of the inputs")
    bench.add_argument(
        "--skip",
        nargs="+",
        default=[],
        metavar="TEXT",
        help="leave out the peers whose name contains TEXT (case-insensitive), e.g. "
        "'dense labels': TensorFlow's dense-label loss takes minutes a call on long inputs",
    )
    bench.set_defaults(run=_bench)

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
