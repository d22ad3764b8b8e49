"""Moderation owns its commands: the feature registers ``moderation log``, ``undo``,
``moderation known-ads`` and ``moderation forget-ad`` on the command line itself, and the core
commands know nothing of its tables or functions."""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from groupops import cli, commands
from groupops.features.moderation import commands as moderation_commands


def command_tree(app: typer.Typer) -> TyperGroup:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    return group


def test_the_core_commands_have_no_moderation_commands() -> None:
    core = typer.Typer()
    commands.register(core)
    assert {"groups", "settings", "outbox"} <= set(command_tree(core).commands)
    assert not {"moderation", "undo"} & set(command_tree(core).commands)


def test_moderation_registers_its_commands() -> None:
    app = typer.Typer()
    moderation_commands.register(app)
    tree = command_tree(app)
    assert set(tree.commands) == {"moderation", "undo"}
    log = tree.commands["moderation"]
    assert isinstance(log, TyperGroup)
    assert set(log.commands) == {"log", "known-ads", "forget-ad"}
    assert "groupops.features.moderation.commands:register" in cli.REGISTRARS
