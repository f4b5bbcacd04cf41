"""The ``edgeai`` command. Each subcommand module exposes ``add_parsers(subparsers)``; the parser
it adds carries ``func(args) -> int`` as its default."""
import argparse
import importlib
import sys
from typing import List, Optional

# one module per group of subcommands
_COMMAND_MODULES = ["edgeai.cli.info", "edgeai.cli.llm", "edgeai.cli.diffusion"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeai", description="Small language and diffusion models on your CPU.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_parsers(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``edgeai`` console script.

    Returns:
        The process exit code.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # typed edgeai errors become one clear line, not a traceback
        from ..errors import EdgeAIError
        if isinstance(exc, (EdgeAIError, FileNotFoundError)):
            print(f"edgeai: error: {exc}", file=sys.stderr)
            return 2
        raise
