"""Extract the texts of the command line's help pages, which babel cannot find (docstrings,
``help=`` of options, Typer's panel titles), and Typer's own words ("No such command": the
modules in ``groupops.cli.LIBRARY_MODULES``), as a PO template.

    python scripts/extract_help.py -o help.pot            # the texts as a template fragment
    python scripts/extract_help.py --merge-into groupops.pot   # added to pybabel's template

``make i18n-extract`` runs the second after ``pybabel extract``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import typer
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from groupops.cli import _register_all, app, help_texts, library_texts
from groupops.i18n import DOMAIN

COMMENT = "help page of the command line"
LIBRARY_COMMENT = "Typer's own words on the command line"


def cli_help_texts() -> list[str]:
    """Every help text of the command line with every command registered."""
    _register_all()
    return help_texts(typer.main.get_command(app))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", type=Path, help="write a template with the help texts")
    where.add_argument("--merge-into", type=Path, help="add the help texts to this template")
    args = parser.parse_args(argv)
    if args.merge_into:
        with args.merge_into.open("rb") as f:
            catalog = read_po(f)
        target = args.merge_into
    else:
        catalog = Catalog(domain=DOMAIN, project="groupops")
        target = args.output
    added = 0
    for texts, comment in ((cli_help_texts(), COMMENT), (library_texts(), LIBRARY_COMMENT)):
        for text in texts:
            if text not in catalog:
                catalog.add(text, auto_comments=[comment])
                added += 1
    with target.open("wb") as f:
        write_po(f, catalog, omit_header=False, sort_output=True, width=76)
    print(f"help texts: {added} added to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
