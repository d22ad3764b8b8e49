"""The commands a workspace offers its members, for a platform's command menu (Telegram's
"/" menu): the same commands the help command lists in a group
(:func:`~groupops.features.commands.offered_commands`), read from the workspace's defaults, as
in a group that sets nothing itself, with what each does in every language groupops speaks."""

from __future__ import annotations

from sqlalchemy import Engine

from groupops.engine.settings_read import workspace_settings
from groupops.features.commands import WORDS_APART, offered_commands
from groupops.features.registry import FeatureRegistry
from groupops.i18n import LANGUAGES, Catalogs
from groupops.platforms.base import CommandMenu


def command_menu(
    db: Engine, registry: FeatureRegistry, catalogs: Catalogs, workspace: str
) -> CommandMenu:
    """Every word of every command offered in ``workspace`` with what its command does, by
    language; a command whose settings do not say what it does is described by its words."""
    valid = workspace_settings(db, registry, workspace)
    offered = offered_commands((f, valid[f.name]) for f in registry.features if f.name in valid)
    menu: dict[str, list[tuple[str, str]]] = {}
    for language in LANGUAGES:
        t = catalogs.gettext(language)
        menu[language] = [
            (word, t(command.does) if command.does else WORDS_APART.join(command.words))
            for command in offered
            for word in command.words
        ]
    return menu
