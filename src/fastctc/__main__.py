"""The command line: ``python -m fastctc {demo} [options]`` and ``--version``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import fastctc


def _demo(args: argparse.Namespace) -> int:
    from fastctc.demo import run_demo

    result = run_demo(epochs=args.epochs, train_size=args.train_size, seed=args.seed)
    return 0 if result.epoch_losses[-1] < result.epoch_losses[0] else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m fastctc", description=fastctc.__doc__)
    parser.add_argument("--version", action="version", version=f"fastctc {fastctc.__version__}")
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
