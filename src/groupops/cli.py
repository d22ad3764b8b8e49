"""The command line: thin commands over the same functions the web and the engine use.

Each area registers its own commands: add its ``register`` function to ``REGISTRARS``.
Help pages speak the operator's language: :func:`help_in` swaps the texts of the command tree
(the commands' docstrings, the options' ``help=``, Typer's panel titles) for their
translations while the command line runs, and puts the English back afterwards.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from typer.core import TyperGroup

from groupops.i18n import LANGUAGES, Catalogs, chosen_language

#: Typer's own words on a help page (attributes of ``typer.rich_utils``), translated too.
TYPER_TEXTS = (
    "ARGUMENTS_PANEL_TITLE",
    "OPTIONS_PANEL_TITLE",
    "COMMANDS_PANEL_TITLE",
    "DEFAULT_STRING",
    "ENVVAR_STRING",
    "REQUIRED_LONG_STRING",
    "DEPRECATED_STRING",
    "ERRORS_PANEL_TITLE",
    "ABORTED_TEXT",
    "RICH_HELP",
)


def help_language() -> str:
    """The language of the help pages: ``GROUPOPS_LANG``, else the terminal's (LANG)."""
    return chosen_language()


def help_slots(command: Any) -> Iterator[tuple[Any, str]]:
    """Where ``command`` and its subcommands keep the texts their help pages show, as
    (object, attribute): each command's ``help`` and ``short_help``, each parameter's
    ``help`` (``--help`` included)."""
    yield command, "help"
    yield command, "short_help"
    params = list(command.params)
    help_option = command.get_help_option(typer.Context(command))
    if help_option is not None:
        params.append(help_option)
    for param in params:
        yield param, "help"
    for sub in (getattr(command, "commands", None) or {}).values():
        yield from help_slots(sub)


def help_texts(command: Any) -> list[str]:
    """Every text the help pages of ``command`` show in English (the msgids), in order."""
    from typer import rich_utils

    found = [getattr(obj, attr, None) for obj, attr in help_slots(command)]
    found += [getattr(rich_utils, name) for name in TYPER_TEXTS]
    return list(dict.fromkeys(text for text in found if isinstance(text, str) and text))


@contextmanager
def help_in(command: Any, language: str) -> Iterator[None]:
    """Within the block the help pages of ``command`` (a click command tree) speak
    ``language``; a text without a translation stays English, as does all of English."""
    if language == "en" or language not in LANGUAGES:
        yield
        return
    from typer import rich_utils

    t = Catalogs().gettext(language)
    slots = [*help_slots(command), *((rich_utils, name) for name in TYPER_TEXTS)]
    saved: list[tuple[Any, str, str]] = []
    for obj, attr in slots:
        text = getattr(obj, attr, None)
        if isinstance(text, str) and text:
            saved.append((obj, attr, text))
            setattr(obj, attr, t(text))
    try:
        yield
    finally:
        for obj, attr, text in reversed(saved):
            setattr(obj, attr, text)


class _LocalizedGroup(TyperGroup):
    """The root command: translates its help (and its commands') before click parses."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with help_in(self, help_language()):
            return super().main(*args, **kwargs)


app = typer.Typer(no_args_is_help=True, help="groupops: run chat communities.", cls=_LocalizedGroup)

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
    app()  # builds the click command tree; _LocalizedGroup.main translates it, then parses
