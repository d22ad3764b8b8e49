"""The bot's command menu: what members of a group see when they type "/" (the Bot API's
``setMyCommands``). Telegram shows a bot's commands there only when the bot registers them.

The engine says which commands the groups of the connection's workspace are offered
(:data:`~groupops.platforms.base.CommandMenu`, read through the ``menu`` callable the adapter
is given); the menu is every ``/`` word of them that Telegram takes as a command (1-32 of
``a-z 0-9 _``; Chinese words and the like are typed, not picked), with what its command does:
the English list as the default (no ``language_code``) and the Chinese one for ``zh``, both for
every group chat (``BotCommandScopeAllGroupChats``). What was registered is kept in the
connection's state (``commands``): a list is sent only when it differs from what Telegram has.

It is looked at when the adapter connects (every start, every reconnect) and then at most
every :data:`MENU_EVERY` seconds while it runs, so a changed keyword reaches the menu within
about a minute. A refusal or a failure is logged and changes nothing else: the connection goes
on receiving and sending. A list Telegram refused is not sent again as it is until the
connection reconnects; one that failed otherwise (a time-out, a 429) is tried at the next look.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from telegram import BotCommand, BotCommandScopeAllGroupChats
from telegram.error import TelegramError

from groupops.platforms.base import CommandMenu, MenuReader
from groupops.platforms.supervise import short
from groupops.platforms.telegram.botapi import BotApi, log

#: a Bot API command (without its "/"): 1-32 lower-case Latin letters, digits and underscores
COMMAND = re.compile(r"[a-z0-9_]{1,32}")
#: the most commands one list may hold
MAX_COMMANDS = 100
#: the longest description of a command (characters)
DESCRIPTION_MAX = 256
#: groupops' languages and the ``language_code`` of their list ("": the default list, for
#: every member whose language has no list of its own)
MENU_LANGUAGES: dict[str, str] = {"en": "", "zh_CN": "zh"}
#: seconds between two looks at a running connection's menu
MENU_EVERY = 60.0
#: where the lists sent are kept in the connection's state, by ``language_code``
STATE_KEY = "commands"

#: one list as sent and kept: [command, description] pairs
Commands = list[list[str]]


def telegram_menu(menu: CommandMenu) -> dict[str, Commands]:
    """The lists to register, by ``language_code``: each ``/`` word of ``menu`` that is a
    valid Bot API command (lower-cased: groupops matches keywords ignoring case), once, in the
    menu's order, with its description (at most :data:`DESCRIPTION_MAX` characters), at most
    :data:`MAX_COMMANDS` of them."""
    lists: dict[str, Commands] = {}
    for language, code in MENU_LANGUAGES.items():
        commands: Commands = []
        seen: set[str] = set()
        for word, does in menu.get(language, ()):
            low = word.strip().lower()
            name = low[1:]
            if not low.startswith("/") or not COMMAND.fullmatch(name) or name in seen:
                continue
            seen.add(name)
            commands.append([name, does.strip()[:DESCRIPTION_MAX] or low])
        lists[code] = commands[:MAX_COMMANDS]
    return lists


class Menu(BotApi):
    """The part of :class:`~groupops.platforms.telegram.adapter.TelegramAdapter` that keeps
    the command menu registered."""

    menu: MenuReader | None
    #: when the menu was last looked at (None: at the next look, whatever the time)
    _menu_looked: datetime | None
    #: the lists Telegram refused since the adapter connected, by ``language_code``
    _menu_refused: dict[str, Commands]

    async def sync_menu(self) -> None:
        """Register the lists that differ from what Telegram has (see the module); never
        raises."""
        now = self.clock.now()
        looked = self._menu_looked
        if self.menu is None or self.bot is None:
            return
        if looked is not None and (now - looked).total_seconds() < MENU_EVERY:
            return
        self._menu_looked = now
        try:
            wanted = telegram_menu(self.menu())
        except Exception as exc:  # the database, a bug: the next look tries again
            log.warning("%s: command menu not read: %s", self.source, exc)
            return
        sent: dict[str, Any] = dict(self._state.get(STATE_KEY) or {})
        for code, commands in wanted.items():
            if sent.get(code) == commands or self._menu_refused.get(code) == commands:
                continue
            if await self._register(code, commands):
                sent[code] = commands
                self._state[STATE_KEY] = sent
                try:
                    await self.save()
                except Exception as exc:  # kept in memory; stored with the next state saved
                    log.warning("%s: command menu not stored: %s", self.source, exc)

    async def _register(self, code: str, commands: Commands) -> bool:
        """Send one list (an empty one deletes the list); False, logged, when it failed."""
        scope = BotCommandScopeAllGroupChats()
        language = code or None
        what = f"setMyCommands {code or 'default'}"
        try:
            if commands:
                await self._bot().set_my_commands(
                    [BotCommand(name, does) for name, does in commands],
                    scope=scope,
                    language_code=language,
                )
            else:
                await self._bot().delete_my_commands(scope=scope, language_code=language)
        except TelegramError as exc:
            error = self._error(exc, what)
            if error.permanent:
                self._menu_refused[code] = commands
            log.warning(
                "%s: command menu not registered: %s", self.source, short(self.source, error)
            )
            return False
        except Exception as exc:
            log.warning("%s: command menu not registered (%s): %r", self.source, what, exc)
            return False
        log.info(
            "%s: command menu (%s) registered: %s",
            self.source,
            code or "default",
            " ".join(f"/{name}" for name, _ in commands) or "none",
        )
        return True
