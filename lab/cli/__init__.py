"""`python -m lab COMMAND`: every module of this package but `options` is one command, named like
the module, with the same two names: `HELP` (one line for the list) and `main(argv) -> int`. A
command imports what it needs (torch, umap) only when it runs, so the list is instant. Errors
print one line and exit with status 2."""
from __future__ import annotations

import importlib
import sys
from typing import Sequence

from lab.errors import LabError
from lab.params import check_name

COMMANDS = ("train", "compare", "runs", "lesson", "measure", "study", "report", "readme")


def usage() -> str:
    """The commands, each with its one-line help."""
    width = max(map(len, COMMANDS))
    lines = [f"  {name:<{width}}  {importlib.import_module(f'lab.cli.{name}').HELP}" for name in COMMANDS]
    return "\n".join(["usage: python -m lab COMMAND [options]   (python -m lab COMMAND --help for its options)",
                      "", "commands:", *lines])


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    try:
        name = check_name("command", argv[0], COMMANDS)
        return importlib.import_module(f"lab.cli.{name}").main(argv[1:])
    except LabError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
