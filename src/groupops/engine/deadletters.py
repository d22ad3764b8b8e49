"""Dead letters, and the outbox as an operator reads it: the words the deliverer writes as an
action's last error (read back by :func:`error_words` in the operator's language), an action's
kind in words, :func:`list_outbox` and :func:`retry_dead`."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, exists, select, update

from groupops.domain.actions import ActionKind
from groupops.domain.errors import Conflict, NotFound, PlatformError, RecipientUnreachable
from groupops.engine.clock import Clock
from groupops.i18n import N_
from groupops.storage.tables import groups, outbox
from groupops.stored_texts import template_reader

#: what the deliverer writes as an action's last error, read back by :func:`error_words` to
#: tell it in the operator's language (the stored text, and ``--json``, stay English)
REROUTED = N_("{error}; posted in the group instead")
NOT_POSTED = N_("not posted: it announces outbox {id} ({kind}), which failed")
NO_CONNECTION = N_("no connection {source} is running")
#: an action for a group the bot is not in (removed, banned or gone: engine/bot.py)
NOT_IN_GROUP = N_("not sent: the bot is not in the group")
#: groupops' own words in the platforms' errors, defined here once: the adapters raise them
#: (a connection's health keeps them, the deliverer its dead letters) and :func:`error_words`
#: reads them back
#: a Telegram connection whose token the Bot API no longer takes (platforms.telegram.botapi)
TOKEN_REFUSED = N_(
    "the bot token was refused (revoked?): run `groupops connect telegram --token …` with the"
    " token from @BotFather; the running serve picks it up"
)
#: a Matrix connection whose login the homeserver no longer takes (platforms.matrix.homeserver)
ACCESS_REFUSED = N_(
    "the homeserver refused the bot's login ({answer}): logged out, or its password changed?"
    " Run `groupops connect matrix --homeserver … --user … ` again; the running serve picks"
    " it up"
)
#: private messages the member cannot receive (RecipientUnreachable: the deliverer posts them
#: in the group instead): on Telegram someone who never started the bot, or who blocked it
#: (what follows is Telegram's), on Matrix someone who left the bot's private chat
NOT_STARTED = N_("the member has not started a private chat with the bot")
BLOCKED = N_("the member cannot receive the bot's private messages: {reason}")
LEFT_PRIVATE_CHAT = N_("{user} left the private chat {room} with the bot (or declined it)")
#: an action of a kind the platform has not (platforms.supervise, or the adapter itself), or
#: of a connection turned off
CANNOT = N_("{platform} cannot {kind}")
DISABLED = N_("the connection is disabled (groupops connections enable turns it on again)")
#: a platform's answer (what follows is the platform's or its library's, as it said it)
REFUSED = N_("refused: {reason}")
FAILED = N_("failed: {reason}")
RATE_LIMITED = N_("rate limited: {reason}")
TIMED_OUT = N_("timed out: {reason}")
NOT_CONNECTED = N_("not connected")
#: a batch of updates the engine could not take (a connection's health)
UPDATES_NOT_HANDLED = N_("updates not handled: {error}")
#: Telegram's actions groupops refuses before asking (platforms.telegram.deliver, botapi)
DELETE_TOO_OLD = N_("Telegram lets bots delete messages for 48 hours only")
BAD_CHAT_ID = N_("bad chat id {value}")
BAD_USER_ID = N_("bad user id {value}")
BAD_MESSAGE_ID = N_("bad message id {value}")
BUTTON_DATA_TOO_LONG = N_("button data longer than {limit} bytes")
MALFORMED_BUTTONS = N_("malformed buttons: {reason}")
#: a member speaking as one of their channels (its id, negative, is the action's user)
CHANNEL_ONLY_BAN = N_(
    "{channel} is a channel speaking in the group: Telegram cannot {kind} it, only ban it"
)
CHANNEL_BAN_FOR_GOOD = N_(
    "{channel} is a channel speaking in the group: Telegram bans a channel for good only, so"
    " a ban with an end cannot be done; ban it without one"
)
#: a Telegram group upgraded to a supergroup (a new chat id; its old messages stay behind)
BECAME_SUPERGROUP = N_("the group became supergroup {chat}")
POSTED_BEFORE_UPGRADE = N_(
    "the message was posted before the group became supergroup {chat}; Telegram keeps it in"
    " the old group, where the bot can no longer act"
)
NOT_OF_GROUP = N_("message {id} is not one of group {group}")
#: the sandbox's refusals (platforms.sandbox.adapter): a private message to someone who has no
#: private chat with the bot there, an action on a member not in the chat
NOT_STARTED_BOT = N_("the member has not started the bot")
NOT_IN_CHAT = N_("user {user} is not in chat {chat}")
#: a pin of a line the group does not show (removed, or never there): Telegram refuses it
#: as "Bad Request: message to pin not found"
PIN_NOT_FOUND = N_("message {id} to pin is not in group {group}: deleted, or never posted there")
#: Matrix's (platforms.matrix): the homeserver's error answers (what follows is its errcode and
#: words, as it said them) and an answer of another kind than asked for (matrix-nio's class)
HOMESERVER_ERROR = N_("homeserver error {status}: {reason}")
REFUSED_STATUS = N_("refused ({status}): {reason}")
UNEXPECTED_ANSWER = N_("unexpected answer {answer}")
#: a mute the room's power levels do not allow, a pin of a message left in an upgraded room's
#: earlier room (stored after the action and its room: ``pin in !room: …``)
MUTE_NOT_BELOW = N_(
    "cannot mute {user} in {room}: their power level {level} is not below the bot's {bot}"
)
PINNED_BEFORE_UPGRADE = N_(
    "{what}: the message was posted before the room was upgraded to {room}; pinned there it"
    " would show nothing"
)
#: a Matrix connection's health: its login or sync did not reach the homeserver (what follows
#: is one of the NETWORK words below), a sync the engine could not take
LOGIN_FAILED = N_("login failed: {reason}")
SYNC_FAILED = N_("sync failed: {reason}")
SYNC_NOT_HANDLED = N_("sync not handled: {error}")
#: why a request did not reach the homeserver (platforms.matrix.config.network_words; what
#: follows a colon is the system's or the TLS library's); Telegram's say python-telegram-bot's
NO_ANSWER = N_("no answer in time (timed out)")
TLS_NOT_ACCEPTED = N_("TLS certificate of {host} not accepted: {reason}")
TLS_FAILED = N_("TLS with {host} failed: {reason}")
NAME_NOT_FOUND = N_("DNS: the name {host} was not found")
CANNOT_CONNECT = N_("cannot connect to {host}:{port}: {reason}")
CONNECTION_CLOSED = N_("the homeserver closed the connection")
NETWORK = (
    NO_ANSWER,
    TLS_NOT_ACCEPTED,
    TLS_FAILED,
    NAME_NOT_FOUND,
    CANNOT_CONNECT,
    CONNECTION_CLOSED,
)
#: all of groupops' words in the platforms' errors (what follows "refused: " is the
#: platform's and stays as it is); read in this order, the first that fits
PLATFORM_WORDS = (
    TOKEN_REFUSED,
    ACCESS_REFUSED,
    NOT_STARTED,
    BLOCKED,
    LEFT_PRIVATE_CHAT,
    NOT_STARTED_BOT,
    NOT_IN_CHAT,
    PIN_NOT_FOUND,
    DELETE_TOO_OLD,
    BAD_CHAT_ID,
    BAD_USER_ID,
    BAD_MESSAGE_ID,
    BUTTON_DATA_TOO_LONG,
    MALFORMED_BUTTONS,
    CHANNEL_ONLY_BAN,
    CHANNEL_BAN_FOR_GOOD,
    BECAME_SUPERGROUP,
    POSTED_BEFORE_UPGRADE,
    NOT_OF_GROUP,
    MUTE_NOT_BELOW,
    PINNED_BEFORE_UPGRADE,
    LOGIN_FAILED,
    SYNC_FAILED,
    SYNC_NOT_HANDLED,
    UNEXPECTED_ANSWER,
    *NETWORK,
    DISABLED,
    NOT_CONNECTED,
    UPDATES_NOT_HANDLED,
    REFUSED,
    REFUSED_STATUS,
    FAILED,
    RATE_LIMITED,
    TIMED_OUT,
    HOMESERVER_ERROR,
    CANNOT,
)
#: an action's kind in words (``outbox list``); ``--json`` keeps the stored kind
KIND_WORDS = {
    "send": N_("group message"),
    "reply": N_("reply"),
    "direct_message": N_("private message"),
    "delete": N_("delete message"),
    "mute": N_("mute"),
    "unmute": N_("unmute"),
    "kick": N_("kick"),
    "ban": N_("ban"),
    "unban": N_("unban"),
    "pin": N_("pin message"),
    "create_invite_link": N_("invite link"),
    "approve_join": N_("approve join request"),
    "decline_join": N_("decline join request"),
    "owner_task": N_("owner task"),
}


#: the values that are one word (an action's kind, a platform's name): a template's other
#: values may hold anything (as much as fits)
_WORD_VALUES = dict.fromkeys(("kind", "platform"), r"\w+")


def _reader(template: str) -> re.Pattern[str]:
    """A pattern that matches what ``template`` made, each value a named group."""
    return template_reader(template, _WORD_VALUES, ".+")


_READERS = [(t, _reader(t)) for t in (NOT_POSTED, NO_CONNECTION, NOT_IN_GROUP, *PLATFORM_WORDS)]
#: the class name of an error before its text: a platform's (``PlatformError``,
#: ``RecipientUnreachable``), or any class's before the connection's id (an adapter's own
#: kind of PlatformError, such as ``TokenRefused``); another exception's is kept
_TYPE = re.compile(r"(\w+): ")
_PLATFORM_TYPES = frozenset({PlatformError.__name__, RecipientUnreachable.__name__})


#: values that may hold groupops' own words in turn (``sync failed: {reason}`` with a
#: network reason): said in the language of ``t`` too
_NESTED = ("reason", "error")


def _said(text: str, t: Callable[[str], str], nested: bool = True) -> str:
    """``text`` said in the language of ``t`` when one of groupops' definitions made it (and,
    once, a reason inside it); else as it is."""
    for template, reader in _READERS:
        found = reader.fullmatch(text)
        if found:
            values = dict(found.groupdict())
            if "kind" in values and values["kind"] in KIND_WORDS:
                values["kind"] = t(KIND_WORDS[values["kind"]])
            if nested:
                for name in _NESTED:
                    if name in values:
                        values[name] = _said(values[name], t, nested=False)
            with contextlib.suppress(KeyError, IndexError, ValueError):  # broken: the English
                return str(t(template).format(**values))
            return text
    return text


def error_words(row: dict[str, Any], t: Callable[[str], str]) -> str:
    """An action's last error as an operator reads it in a listing, in the language of ``t``:
    without the exception's class name and the connection and kind the row shows already
    (``PlatformError: telegram:bot mute in -1001: refused: …`` is ``refused: …``), groupops'
    own words translated, the platform's as they are. Text it does not know stays whole."""
    text = str(row.get("last_error") or "")
    rerouted = _reader(REROUTED).fullmatch(text)
    if rerouted:
        text = rerouted["error"]
    source = str(row.get("source") or "")
    matched = _TYPE.match(text)
    if matched and (
        matched[1] in _PLATFORM_TYPES
        or (source and re.match(re.escape(source) + "[ :]", text[matched.end() :]))
    ):
        text = text[matched.end() :]
    # a request that did not reach the homeserver says the action after the connection
    # ("matrix:bot: send in !room: no answer in time"): its words are the reason's; a text
    # whose own words name the action (a pin after a room upgrade) reads whole below
    stopped = re.match(re.escape(source) + r": \S+ (?:in|to) \S+: ", text) if source else None
    reason = text[stopped.end() :] if stopped else ""
    if reason and (said := _said(reason, t)) != reason:
        text = said
    else:
        # a platform's refusal: "telegram:bot mute in -1001: refused: …"
        where = re.match(re.escape(source) + r"(?: \S+ (?:in|to) \S+)?: ", text) if source else None
        if where:
            text = text[where.end() :]
        text = _said(text, t)
    if rerouted:
        try:
            text = t(REROUTED).format(error=text)
        except (KeyError, IndexError, ValueError):
            text = REROUTED.format(error=text)
    return text


#: the statuses listed newest first: what was done (the latest is what an operator looks
#: for); the others (waiting, being sent, dead letters) oldest first, the order they are sent
#: and retried in
NEWEST_FIRST = frozenset({"delivered", "rerouted", "withdrawn"})


def list_outbox(db: Engine, status: str = "dead", limit: int = 100) -> list[dict[str, Any]]:
    """The first ``limit`` actions with ``status``: delivered, rerouted and withdrawn ones
    newest first, the others oldest first (:data:`NEWEST_FIRST`)."""
    order = outbox.c.id.desc() if status in NEWEST_FIRST else outbox.c.id
    with db.connect() as conn:
        rows = conn.execute(
            select(outbox).where(outbox.c.status == status).order_by(order).limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]


#: an outbox retry refusing the dead actions of a group the bot is not in (:func:`retry`)
HELD_ONE = N_(
    "action {ids} for group {group} not queued again: the bot is not in the group; add it"
    " back, then retry"
)
HELD_MANY = N_(
    "actions {ids} for group {group} not queued again: the bot is not in the group; add it"
    " back, then retry"
)


#: the ids a :class:`BotNotInGroup` names at most (a group left long ago may hold thousands)
SHOWN = 10


class BotNotInGroup(Conflict):
    """Dead actions of a group the bot is not in, refused by :func:`retry`: sent now they
    would only die again (or, on a path that misses the check, be sent where the bot is not).
    ``ids`` are the actions' (the text names the first :data:`SHOWN`), ``group`` names the
    group."""

    code = "bot_not_in_group"

    def __init__(self, ids: Sequence[int], group: str) -> None:
        super().__init__(
            HELD_MANY if len(ids) > 1 else HELD_ONE,
            where=N_("outbox"),
            ids=", ".join(map(str, ids[:SHOWN])) + (", …" if len(ids) > SHOWN else ""),
            group=group,
        )
        self.ids = list(ids)
        self.group = group


@dataclass(frozen=True, slots=True)
class Retried:
    """What :func:`retry` did: how many actions are queued again, and the groups whose dead
    actions it held back because the bot is not in them (one error each, for the operator)."""

    queued: int
    held: list[BotNotInGroup] = field(default_factory=list)


def _held() -> ColumnElement[bool]:
    """Whether an outbox row waits for the bot to be back in its group: the group says the bot
    is not in it (``groups.bot_in_chat``) and the action needs the group, as all but a private
    message do (that goes to the member's own chat: engine/outbox.py lets it through)."""
    g = groups.c
    return and_(
        outbox.c.kind != ActionKind.DIRECT_MESSAGE.value,
        exists()
        .where(g.source == outbox.c.source, g.chat_id == outbox.c.chat_id, g.bot_in_chat.is_(False))
        .correlate(outbox),
    )


def _group_name(title: str, source: str, chat_id: str) -> str:
    where = f"{source}:{chat_id}"
    return f"{title} ({where})" if title and title != chat_id else where


def retry(db: Engine, clock: Clock, ids: Sequence[int] | None = None) -> Retried:
    """Put dead actions back in the queue (all of them when ``ids`` is None), but not those
    of a group the bot is not in (other than private messages): those stay dead, one
    :class:`BotNotInGroup` per group in :attr:`Retried.held`; once the bot is back they are
    queued as any other. An id that is not a dead action is :class:`NotFound`, nothing
    queued."""
    o = outbox.c
    with db.begin() as conn:
        dead = o.status == "dead"
        if ids is not None:
            known = {
                r[0] for r in conn.execute(select(o.id).where(o.id.in_(ids), o.status == "dead"))
            }
            missing = sorted(set(ids) - known)
            if missing:
                raise NotFound(
                    N_("no dead action with ids {ids}")
                    if len(missing) > 1
                    else N_("no dead action with id {ids}"),
                    where=N_("outbox"),
                    ids=", ".join(map(str, missing)),
                )
            dead = and_(dead, o.id.in_(ids))
        g = groups.c
        found = conn.execute(
            select(o.id, o.source, o.chat_id, g.title)
            .select_from(outbox.join(groups, and_(g.source == o.source, g.chat_id == o.chat_id)))
            .where(dead, g.bot_in_chat.is_(False), o.kind != ActionKind.DIRECT_MESSAGE.value)
            .order_by(o.source, o.chat_id, o.id)
        ).all()
        by_group: dict[tuple[str, str], tuple[str, list[int]]] = {}
        for oid, source, chat_id, title in found:
            by_group.setdefault((str(source), str(chat_id)), (str(title or ""), []))[1].append(
                int(oid)
            )
        # one statement: a group the bot leaves meanwhile is read as the update runs
        res = conn.execute(
            update(outbox)
            .where(dead, ~_held())
            .values(status="pending", attempts=0, next_attempt_at=clock.now(), last_error="")
        )
    held = [
        BotNotInGroup(gids, _group_name(title, source, chat_id))
        for (source, chat_id), (title, gids) in by_group.items()
    ]
    return Retried(int(res.rowcount or 0), held)


def retry_dead(db: Engine, clock: Clock, ids: Sequence[int] | None = None) -> int:
    """:func:`retry`: how many actions are queued again (those of a group the bot is not in
    are held back, :attr:`Retried.held`)."""
    return retry(db, clock, ids).queued
