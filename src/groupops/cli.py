"""The command line: thin commands over the same functions the web and the engine use.

Each area registers its own commands: add its ``register`` function to ``REGISTRARS``.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, help="groupops: run chat communities.")

# "module:function" that take the Typer app and add commands to it.
REGISTRARS: tuple[str, ...] = (
    "groupops.commands:register",
    "groupops.importers.commands:register",
    "groupops.analytics.commands:register",
    "groupops.report.commands:register",
    "groupops.web.commands:register",
    "groupops.platforms.commands:register",
    "groupops.simulator.commands:register",
)


def _register_all() -> None:
    for spec in REGISTRARS:
        module_name, _, func = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):  # that area is not built yet
                continue
            raise
        getattr(module, func)(app)


def main() -> None:
    _register_all()
    app()
