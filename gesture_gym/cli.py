"""The ``gesture-gym`` command. Each package adds its own subcommands through ``add_commands``."""

from __future__ import annotations

import argparse
import importlib
import sys

# each defines add_commands(subparsers)
COMMAND_MODULES = (
    "gesture_gym.demo",
    "gesture_gym.data.cli",
    "gesture_gym.motion.cli",
    "gesture_gym.metrics.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gesture-gym", description="Co-speech gesture and dance generation as RL environments"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"gesture-gym: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
