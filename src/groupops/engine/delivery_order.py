"""In what order a chat's outbox actions go out: what may overtake what, and why.

The rule is a chat's actions in the order they were queued (the order of the events that
caused them, and of what one event or one tick decided), with one exception: the actions that
protect a group.

* **Protective actions overtake messages.** ``OVERTAKES`` (delete, mute, unmute, kick, ban,
  unban, approve or decline a join request) may go before the chat's earlier queued actions
  that are not protective. A group takes the bot's messages at its own pace (Telegram: 20 a
  minute), and during a raid or a spam wave minutes of welcomes are queued: the mutes, deletes
  and kicks must not wait behind them. They post nothing, so they do not use the group's pace
  either (``POSTS``: only send, reply and pin take a token from the chat's bucket).
* **Protective actions keep their order among themselves**: one waits for every earlier
  protective action of its chat, so an unmute never goes before its mute, an unban never
  before its ban.
* **Messages never overtake.** A message (or any other action that is not protective) waits
  for every earlier action of its chat: "🔇 Bob is muted" waits for the mute it announces (and
  joins it in the dead letters if the mute fails for good, see engine.deliverer).
* **A protective action waits for an earlier action naming the same thing** (:func:`names`):
  a delete waits for an earlier reply to, or pin of, the message it removes (the reply would
  fail, or answer nothing); a removal (``REMOVES``: kick, ban, a join request declined) waits
  for an earlier message put to that member (``ADDRESSES``: the join gate's question, whose
  time-out kicks: a newcomer kicked before their question was even posted could not have
  answered it). A protective action that waits so holds up the protective ones after it.
* A delete of one of the bot's own messages needs that message's id, which exists only once
  it was delivered: it is never queued before it, so it needs no rule.

These rules decide which of a chat's unfinished actions may go now (:func:`heads`, over what
:func:`read_queue` read), which of those the rate limits let go (:func:`admitted`), in what
order one pass sends them (:func:`send_order`: protective ones first), and what must be handed
back untried when one of them is not delivered (:func:`waits_for`).

Reading the queue. A read brings a bounded number of rows into memory, fairly: each chat's
first actions and its first protective ones, every chat's first before any chat's second. So
a raid's 10,000 queued welcomes in one group hold up neither another group's action nor the
group's own mutes and kicks. The rules above hold past what a read takes of a chat as well:
its protective actions read there are checked, by name, against its messages not read (a
question put to the member a kick takes out is found wherever it is queued).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, Row, TextualSelect, bindparam, column, or_, select, text

from groupops.domain.actions import ADDRESSES, ActionKind
from groupops.engine.outbox import Handed, unfinished_chats_cte
from groupops.storage.tables import OUTBOX_UNFINISHED, outbox

#: an unfinished outbox row as the deliverer works on it: read from the queue, or handed over
Queued = Row[Any] | Handed

#: kinds that put a message into the chat: they take a token from the chat's bucket as well as
#: the connection's (a pin posts the platform's "pinned" notice in the group)
POSTS = frozenset({ActionKind.SEND.value, ActionKind.REPLY.value, ActionKind.PIN.value})
#: kinds that protect a group (or undo that): they may go before the chat's earlier queued
#: messages (see the module's docstring)
OVERTAKES = frozenset(
    k.value
    for k in (
        ActionKind.DELETE,
        ActionKind.MUTE,
        ActionKind.UNMUTE,
        ActionKind.KICK,
        ActionKind.BAN,
        ActionKind.UNBAN,
        ActionKind.APPROVE_JOIN,
        ActionKind.DECLINE_JOIN,
    )
)
#: protective kinds that take a member out of the chat: they wait for an earlier message put
#: to that member (``ADDRESSES``: the join gate's question)
REMOVES = frozenset(k.value for k in (ActionKind.KICK, ActionKind.BAN, ActionKind.DECLINE_JOIN))

_o = outbox.c
_UNFINISHED = _o.status.in_(("pending", "sending"))
#: protective kinds in SQL, written out as the partial index on them writes its condition
#: (storage.tables.OUTBOX_OVERTAKING): else the database would not use it
_PROTECTS_SQL = "kind IN ({})".format(", ".join(f"'{kind}'" for kind in sorted(OVERTAKES)))


def _windows_sql(sqlite: bool) -> TextualSelect:
    """Every chat's first ``k`` unfinished actions and first ``k`` protective ones, taken round
    robin (every chat's first before any chat's second), at most ``n`` in all: their rows, each
    with its place in its chat (``rn``: 1 for the chat's oldest) and its rank in the read (its
    place among the chat's protective actions if it is one, else its place).

    Without sorting the queue: the sources, each source's chats, each chat's oldest ``m``
    unfinished actions and, in a chat that has that many, its oldest ``k`` protective ones
    are found one after the other, one step in a partial index each (ix_outbox_unfinished,
    ix_outbox_unfinished_overtaking: the next one after the last found), so the cost grows
    with what is read, not with the queue. Every step is a subquery of one row, and each row
    found is read by its id (no join a planner could turn into a scan of the table). The
    places are counted over what was read: exact among a chat's oldest ``m`` (``m`` is
    ``2 k``: read_queue compares places up to ``2 k - 2``, the most it keeps of a chat), and
    past them only protective ones are read (counted past ``m``); the protective ones read
    are the chat's oldest, so their places among them are exact.

    SQLite is told which index to use (INDEXED BY): without statistics it would take the
    status index and sort; PostgreSQL picks them itself."""
    every = " INDEXED BY ix_outbox_unfinished" if sqlite else ""
    protective = " INDEXED BY ix_outbox_unfinished_overtaking" if sqlite else ""
    u, p = OUTBOX_UNFINISHED, _PROTECTS_SQL
    columns = ", ".join(f"o.{c.name}" for c in outbox.c)
    # each row found read by its id (SQLite keeps the order of a CROSS JOIN; PostgreSQL does
    # not flatten a subquery with an OFFSET): not a scan of the table, which a planner may
    # prefer for a few thousand ids
    row = (
        "outbox AS o WHERE o.id = w.id"
        if sqlite
        else "LATERAL (SELECT * FROM outbox AS x WHERE x.id = w.id OFFSET 0) AS o"
    )
    return text(f"""
WITH RECURSIVE
{unfinished_chats_cte(sqlite)},
oldest(source, chat_id, id, n) AS (
  SELECT c.source, c.chat_id, (SELECT x.id FROM outbox AS x{every}
                               WHERE {u} AND x.source = c.source AND x.chat_id = c.chat_id
                               ORDER BY x.id LIMIT 1), 1
  FROM chats AS c WHERE c.chat_id IS NOT NULL
  UNION ALL
  SELECT w.source, w.chat_id, (SELECT x.id FROM outbox AS x{every}
                               WHERE {u} AND x.source = w.source AND x.chat_id = w.chat_id
                               AND x.id > w.id ORDER BY x.id LIMIT 1), w.n + 1
  FROM oldest AS w WHERE w.id IS NOT NULL AND w.n < :m
),
protective(source, chat_id, id, n) AS (
  SELECT w.source, w.chat_id, (SELECT x.id FROM outbox AS x{protective}
                               WHERE {u} AND {p} AND x.source = w.source
                               AND x.chat_id = w.chat_id ORDER BY x.id LIMIT 1), 1
  FROM oldest AS w WHERE w.n = :m AND w.id IS NOT NULL
  UNION ALL
  SELECT w.source, w.chat_id, (SELECT x.id FROM outbox AS x{protective}
                               WHERE {u} AND {p} AND x.source = w.source
                               AND x.chat_id = w.chat_id AND x.id > w.id
                               ORDER BY x.id LIMIT 1), w.n + 1
  FROM protective AS w WHERE w.id IS NOT NULL AND w.n < :k
),
taken(id) AS (
  SELECT id FROM oldest WHERE id IS NOT NULL
  UNION SELECT id FROM protective WHERE id IS NOT NULL
),
ranked AS (
  SELECT {columns}, row_number() OVER chat AS rn,
         CASE WHEN {p} THEN sum(CASE WHEN {p} THEN 1 ELSE 0 END) OVER chat
         ELSE row_number() OVER chat END AS rank
  FROM taken AS w CROSS JOIN {row}
  WINDOW chat AS (PARTITION BY o.source, o.chat_id ORDER BY o.id
                  ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT * FROM ranked WHERE rank <= :k ORDER BY rank, id LIMIT :n
""").columns(*outbox.c, column("rn", Integer), column("rank", Integer))


_WINDOWS, _WINDOWS_SQLITE = _windows_sql(sqlite=False), _windows_sql(sqlite=True)


def _read_windows(conn: Connection, k: int, n: int) -> Sequence[Row[Any]]:
    """The rows of :func:`_windows_sql` (with rn, rank), in the order they are taken."""
    if conn.dialect.name == "postgresql":
        # PostgreSQL's guess at the steps through the indexes (it cannot know how many) is
        # far over the cost at which it compiles a query to machine code first: half a
        # second each time, for a read of a few milliseconds (for this transaction only)
        conn.execute(text("SET LOCAL jit = off"))
    windows = _WINDOWS_SQLITE if conn.dialect.name == "sqlite" else _WINDOWS
    return conn.execute(windows, {"k": k, "m": 2 * k, "n": n}).all()


#: a chat's unfinished actions between two ids that are not protective and name one of the
#: ``messages`` or address one of the ``members`` (as :func:`names` reads them)
_NAMING = (
    select(outbox)
    .where(
        _o.source == bindparam("source"),
        _o.chat_id == bindparam("chat_id"),
        _o.id > bindparam("after"),
        _o.id < bindparam("before"),
        _UNFINISHED,
        _o.kind.not_in(sorted(OVERTAKES)),
        or_(
            _o.payload["message_id"].as_string().in_(bindparam("messages", expanding=True)),
            _o.payload[("data", ADDRESSES)].as_string().in_(bindparam("members", expanding=True)),
        ),
    )
    .order_by(_o.id)
    .limit(bindparam("n"))
)


def names(row: Queued) -> frozenset[str]:
    """What an action names that a protective one naming the same must wait for: the message
    it is about (a reply's, a pin's, a delete's: ``m:<id>``) and the member a message is put to
    or a removal takes out (``u:<id>``)."""
    message, member = _named(row)
    found = {f"m:{message}"} if message else set()
    if member:
        found.add(f"u:{member}")
    return frozenset(found)


def _named(row: Queued) -> tuple[str, str]:
    """The message and the member of :func:`names` ("" for none); ``_NAMING`` reads them in
    SQL as this does."""
    if row.kind in REMOVES:
        member = row.payload.get("user_id")
    else:
        data = row.payload.get("data")
        member = data.get(ADDRESSES) if isinstance(data, Mapping) else None
    return str(row.payload.get("message_id") or ""), str(member or "")


def waits_for(later: Queued, earlier: Queued) -> bool:
    """Whether ``later`` may go only after ``earlier`` (two actions of one chat): after a
    protective action, everything; after another, every other and the protective ones naming
    the same message or member."""
    if later.id <= earlier.id:
        return False
    if earlier.kind in OVERTAKES or later.kind not in OVERTAKES:
        return True
    return bool(names(later) & names(earlier))


def send_order(rows: list[Queued]) -> list[Queued]:
    """A chat's actions of one pass in the order they are sent: the protective ones first (a
    mute is not a round trip per queued message late), each kind in its own order. A
    protective one naming a message or member that an earlier other one names stays behind
    it, and so do the protective ones after it."""
    first: list[Queued] = []
    rest: list[Queued] = []
    named: set[str] = set()
    behind = False  # a protective action stayed behind: the later ones stay behind it too
    for row in rows:
        found = names(row)
        if row.kind in OVERTAKES and not behind:
            if not found & named:
                first.append(row)
                continue
            behind = True
        rest.append(row)
        named.update(found)
    return first + rest


@dataclass(frozen=True)
class QueueRead:
    """One read of the queue: the rows in id order; for each chat read, the id up to which
    every unfinished action of it was read (its ``horizons``: past it, only its protective
    actions and what they must wait for); and whether nothing was left out."""

    rows: list[Row[Any]]
    horizons: dict[tuple[str, str], int]
    complete: bool


def read_queue(conn: Connection, budget: int, per_chat: int) -> QueueRead:
    """The unfinished actions :func:`heads` decides on, at most ``budget`` rows (and those
    :func:`names` tells a protective one must wait for), fairly across chats: each chat's
    first ``per_chat`` actions and its first ``per_chat`` protective ones, every chat's first
    before any chat's second, so a backlog of thousands in one chat holds up neither another
    chat's action nor its own protective ones. What is taken is found through the outbox's
    partial indexes (:func:`_windows_sql`): the cost grows with what is read, not with the
    length of the queue.

    Past a chat's horizon its other actions are not read, but the protective ones read there
    must not overtake one that names what they name: those are looked for by name in the
    chat's unread part (``_NAMING``), wherever they are. At most ``per_chat`` of them are
    read; past the last one read, when there may be more, the chat's protective actions wait
    for the next read."""
    got = _read_windows(conn, per_chat + 1, budget + 1)
    # one more than the windows and the budget take: what says more is queued than was read
    complete = len(got) <= budget and all(r.rank <= per_chat for r in got)
    rows = sorted((r for r in got[:budget] if r.rank <= per_chat), key=lambda r: r.id)
    chats: dict[tuple[str, str], list[Row[Any]]] = {}
    for row in rows:
        chats.setdefault((row.source, row.chat_id), []).append(row)
    horizons: dict[tuple[str, str], int] = {}
    unknown: set[int] = set()  # read, but what they may wait for was not: not this time
    naming: list[Row[Any]] = []
    for key, chat_rows in chats.items():
        place = 0  # how many of the chat's actions were read, in a row from its oldest
        while place < len(chat_rows) and chat_rows[place].rn == place + 1:
            place += 1
        if not place:  # its oldest left out (more chats than the budget): the next read
            unknown.update(row.id for row in chat_rows)
            complete = False
            continue
        horizons[key] = chat_rows[place - 1].id
        past = chat_rows[place:]  # protective ones only (see _windows_sql's rank)
        named = [_named(row) for row in past]
        last = max((row.id for row, n in zip(past, named, strict=True) if any(n)), default=None)
        if last is None:
            continue
        found = conn.execute(
            _NAMING,
            {
                "source": key[0],
                "chat_id": key[1],
                "after": horizons[key],
                "before": last,
                "messages": sorted({message for message, _ in named if message}),
                "members": sorted({member for _, member in named if member}),
                "n": per_chat,
            },
        ).all()
        naming.extend(found)
        if len(found) == per_chat:  # perhaps more: what comes after the last one read waits
            unknown.update(row.id for row in past if row.id > found[-1].id)
            complete = False
    if naming or unknown:
        rows = sorted([*(r for r in rows if r.id not in unknown), *naming], key=lambda r: r.id)
    return QueueRead(rows, horizons, complete)


def heads(
    read: QueueRead, now: datetime, limit: int, per_chat: int
) -> tuple[list[list[Queued]], bool]:
    """The unfinished actions of each chat that may go now (up to ``per_chat`` protective
    ones and as many others, in order, of at most ``limit`` chats), if due; and whether that
    is all of what is due (nothing left out by a limit).

    A chat's action that is not going (being sent, waiting for its retry, or left out by a
    limit) holds up what must wait for it: after a protective one, everything; after any
    other, the chat's later actions except the protective ones that name nothing it names."""
    complete = read.complete
    found: dict[tuple[str, str], list[Queued]] = {}
    taken: dict[tuple[str, str], list[int]] = {}  # how many (protective, other) taken
    stopped: set[tuple[str, str]] = set()  # a protective action is not going: nothing is
    held: set[tuple[str, str]] = set()  # another action is not going: only protective go
    waited: dict[tuple[str, str], set[str]] = {}  # what actions not going name
    for row in read.rows:
        key = (row.source, row.chat_id)
        if key in stopped:
            continue
        protects = row.kind in OVERTAKES
        named = names(row)
        if protects and named & waited.get(key, set()):
            # a delete of a message a reply names, a kick of a member a message is put to
            stopped.add(key)
            continue
        if not protects and (key in held or row.id > read.horizons[key]):
            waited.setdefault(key, set()).update(named)
            held.add(key)
            continue
        going = True
        counts = taken.get(key)
        if counts is not None and counts[0 if protects else 1] >= per_chat:
            complete = going = False
        else:
            in_flight = row.status == "sending" and row.claimed_until and row.claimed_until > now
            if in_flight or row.next_attempt_at > now:
                going = False  # what must wait for it does not go first
            elif counts is None and len(found) >= limit:
                complete = going = False
        if not going:
            if protects:
                stopped.add(key)
            else:
                held.add(key)
                waited.setdefault(key, set()).update(named)
            continue
        if counts is None:
            found[key] = []
            counts = taken[key] = [0, 0]
        counts[0 if protects else 1] += 1
        found[key].append(row)
    return list(found.values()), complete


def admitted(rows: Sequence[Queued], admit: Callable[[Queued], bool]) -> list[Queued]:
    """Of one chat's actions that may go (:func:`heads`), in queue order, those ``admit`` (the
    rate limits) lets go now: one it holds back holds up what must wait for it, as in
    :func:`heads`."""
    allowed: list[Queued] = []
    held = False
    waited: set[str] = set()
    for row in rows:
        protects = row.kind in OVERTAKES
        named = names(row)
        if protects and named & waited:
            break
        if not protects and held:
            waited.update(named)
            continue
        if not admit(row):
            if protects:
                break  # nothing of this chat goes after it
            held = True
            waited.update(named)
            continue
        allowed.append(row)
    return allowed
