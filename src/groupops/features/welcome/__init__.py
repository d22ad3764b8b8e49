"""welcome: greet newcomers by name, push the rules, ask for a self-introduction, and
during a join burst send one combined welcome instead of one per member (naming only those
still there when it goes out): when joins calm down, or, while they keep coming, once the
first one held back has waited ``burst_max_wait_seconds``. A member who leaves and comes back
within ``rejoin_quiet_hours`` of a welcome is not welcomed again (no bot spam from a member
joining and leaving in a loop)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from groupops.domain.actions import Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.context import BatchContext, GroupInfo, Incoming
from groupops.features.base import tick_settings
from groupops.features.commands import Answers, is_command
from groupops.features.kept import Kept
from groupops.features.welcome import commands
from groupops.features.welcome.commands import rules_text
from groupops.features.welcome.settings import WelcomeSettings
from groupops.features.welcome.tables import welcome_bursts
from groupops.i18n import N_
from groupops.storage.tables import events, identities, memberships

DEFAULT_TEMPLATE = N_("Welcome {{ name }} to {{ group }}! 🎉")
DEFAULT_INTRO = N_("Please introduce yourself in a few words: who you are and why you joined.")
DEFAULT_BURST = N_("Welcome to our {{ count }} new members: {{ names }}! 🎉")
MAX_NAMES = 20

_w, _e, _ms = welcome_bursts.c, events.c, memberships.c
#: built once: building a statement per call costs ~5x more than running it on SQLite
_SELECT_BURSTS = select(welcome_bursts).order_by(_w.group_id)  # the same order on every database
_INSERT_BURST = insert(welcome_bursts)
_UPDATE_BURST = (
    update(welcome_bursts)
    .where(_w.group_id == bindparam("g"))
    .values(
        names=bindparam("b_names"), count=bindparam("b_count"), last_join_at=bindparam("b_last")
    )
)
_DELETE_BURST = delete(welcome_bursts).where(_w.group_id == bindparam("g"))
#: joins of one kind in a group shortly before a join (uses ix_events_group_kind_time)
_RECENT_JOINS = (
    select(func.count())
    .select_from(events)
    .where(
        _e.group_id == bindparam("g"),
        _e.kind == bindparam("kind"),
        _e.occurred_at > bindparam("since", type_=_e.occurred_at.type),
        _e.occurred_at <= bindparam("until", type_=_e.occurred_at.type),
        _e.seq < bindparam("seq"),
    )
)
#: the latest welcome of each member in a group since a time (joins, or with the join gate
#: admissions: the kind that is welcomed): read at the group's first join a process sees
_WELCOMES_SINCE = (
    select(_e.member_id, func.max(_e.occurred_at))
    .where(
        _e.group_id == bindparam("g"),
        _e.kind == bindparam("kind"),
        _e.occurred_at > bindparam("since", type_=_e.occurred_at.type),
        _e.seq < bindparam("seq"),
        _e.member_id.is_not(None),
    )
    .group_by(_e.member_id)
    .limit(bindparam("n"))
)
#: a member's events of some kinds in a group shortly before a join: did they leave lately,
#: were they welcomed then (for a group with more welcomes than memory keeps; uses
#: ix_events_group_kind_time: departures are few, so the first question is cheap even in a
#: join wave; the second is asked only after a departure)
_LATELY = (
    select(_e.seq)
    .where(
        _e.group_id == bindparam("g"),
        _e.kind.in_(bindparam("kinds", expanding=True)),
        _e.occurred_at > bindparam("since", type_=_e.occurred_at.type),
        _e.occurred_at <= bindparam("until", type_=_e.occurred_at.type),
        _e.seq < bindparam("seq"),
        _e.member_id == bindparam("m"),
    )
    .limit(1)
)
_DEPARTURES = (EventKind.MEMBER_LEFT.value, EventKind.MEMBER_KICKED.value)
_INTRODUCED = (
    update(memberships)
    .where(
        _ms.group_id == bindparam("g"),
        _ms.member_id == bindparam("m"),
        _ms.introduced_at.is_(None),
    )
    .values(introduced_at=bindparam("b_when"))
)


@dataclass
class _Burst:
    """A group's held-back joins (welcome_bursts) while a batch runs.

    Stored in the ``names`` column as a list: ``[member id, name]`` for each of the first
    :data:`MAX_NAMES` held back (the names the message shows), ``[member id]`` for each one
    after (counted only); a plain name is a row stored before the ids were kept."""

    group_id: int
    names: list[str]
    count: int
    started_at: datetime
    last_join_at: datetime
    new: bool = False  # not stored yet
    dirty: bool = False  # changed since it was read
    #: the member of each of ``names`` (None: stored before the ids were kept)
    ids: list[int | None] = field(default_factory=list)
    #: the members held back after the first MAX_NAMES
    more: list[int] = field(default_factory=list)

    @classmethod
    def read(cls, row: Any) -> _Burst:
        names: list[str] = []
        ids: list[int | None] = []
        more: list[int] = []
        for held in row.names:
            if isinstance(held, str):
                names.append(held)
                ids.append(None)
            elif len(held) == 2:
                ids.append(int(held[0]))
                names.append(str(held[1]))
            else:
                more.append(int(held[0]))
        count = int(row._mapping["count"])
        return cls(
            int(row.group_id),
            names,
            count,
            row.started_at,
            row.last_join_at,
            False,
            False,
            ids,
            more,
        )

    def stored(self) -> list[Any]:
        shown = [n if m is None else [m, n] for m, n in zip(self.ids, self.names, strict=True)]
        return [*shown, *([m] for m in self.more)]

    def add(self, member_id: int | None, name: str) -> None:
        if len(self.names) < MAX_NAMES:
            self.names.append(name)
            self.ids.append(member_id)
        elif member_id is not None:
            self.more.append(member_id)
        self.count += 1

    def drop(self, member_id: int, name: str | None, joined_at: datetime | None) -> bool:
        """Take out the member's held-back join, if it is here; whether it was."""
        if member_id in self.ids:
            at = self.ids.index(member_id)
            del self.ids[at], self.names[at]
        elif member_id in self.more:
            self.more.remove(member_id)
        elif (
            # a row stored before the ids were kept: their name, if they joined in the burst
            name is not None
            and joined_at is not None
            and joined_at >= self.started_at
            and any(m is None and n == name for m, n in zip(self.ids, self.names, strict=True))
        ):
            at = next(
                i
                for i, (m, n) in enumerate(zip(self.ids, self.names, strict=True))
                if m is None and n == name
            )
            del self.ids[at], self.names[at]
        else:
            return False
        self.count -= 1
        return True


@dataclass
class _Batch:
    """What one ``handle`` call reads once and writes once: the bursts (read at the first
    join, written at the end or before a tick flushes them) and the introductions."""

    conn: Connection
    bursts: dict[int, _Burst] | None = None
    #: groups whose stored burst is to be deleted: everyone held back left
    emptied: set[int] = field(default_factory=set)
    #: (group, member) -> when: the first long message of a newcomer in this batch
    intros: dict[tuple[int, int], datetime] = field(default_factory=dict)

    def burst_of(self, group_id: int) -> _Burst | None:
        if self.bursts is None:
            self.bursts = {
                int(r.group_id): _Burst.read(r) for r in self.conn.execute(_SELECT_BURSTS)
            }
        return self.bursts.get(group_id)

    def empty(self, burst: _Burst) -> None:
        """Everyone held back in the burst left: no combined welcome."""
        assert self.bursts is not None
        del self.bursts[burst.group_id]
        if not burst.new:
            self.emptied.add(burst.group_id)

    def write_bursts(self) -> None:
        if self.emptied:  # before the inserts: a burst may start again in the same batch
            self.conn.execute(_DELETE_BURST, [{"g": g} for g in sorted(self.emptied)])
            self.emptied = set()
        if not self.bursts:
            return
        new = [b for b in self.bursts.values() if b.new]
        changed = [b for b in self.bursts.values() if b.dirty and not b.new]
        if new:
            self.conn.execute(
                _INSERT_BURST,
                [
                    {
                        "group_id": b.group_id,
                        "names": b.stored(),
                        "count": b.count,
                        "started_at": b.started_at,
                        "last_join_at": b.last_join_at,
                    }
                    for b in new
                ],
            )
        if changed:
            self.conn.execute(
                _UPDATE_BURST,
                [
                    {
                        "g": b.group_id,
                        "b_names": b.stored(),
                        "b_count": b.count,
                        "b_last": b.last_join_at,
                    }
                    for b in changed
                ],
            )
        for b in self.bursts.values():
            b.new = b.dirty = False

    def write(self) -> None:
        self.write_bursts()
        if self.intros:
            self.conn.execute(
                _INTRODUCED,
                [{"g": g, "m": m, "b_when": when} for (g, m), when in self.intros.items()],
            )
            self.intros = {}


class WelcomeFeature:
    name: ClassVar[str] = "welcome"
    order: ClassVar[int] = 20
    settings_model: ClassVar[type[WelcomeSettings]] = WelcomeSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset(
        {
            EventKind.MEMBER_JOINED,
            EventKind.MEMBER_ADMITTED,
            EventKind.MESSAGE,
            EventKind.MESSAGE_DELETED,  # moderation removed an earlier message as an ad
            EventKind.MEMBER_LEFT,  # no longer welcomed in a burst's combined welcome
            EventKind.MEMBER_KICKED,
            EventKind.TICK,
        }
    )

    def __init__(self) -> None:
        #: when each member was last welcomed in a group (held back for a burst counts), for
        #: rejoin_quiet_hours: a group's welcomes within them are read at its first join this
        #: process sees (this process is the only one welcoming in its groups: every join
        #: after passes through here); a handle() call's are noted, staged at its end
        self._welcomed: Kept[tuple[int, int], datetime] = Kept()
        #: when each member last got the rules or help command's answer (commands.py)
        self._answers = Answers()

    def committed(self) -> None:
        self._welcomed.committed()
        self._answers.committed()

    def rolled_back(self) -> None:
        self._welcomed.rolled_back()
        self._answers.rolled_back()

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        self._welcomed.begin_call()  # what a call that raised welcomed: run again one by one
        self._answers.begin()
        b = _Batch(ctx.conn)
        for item in batch:
            kind = item.event.kind
            if kind == EventKind.TICK:
                b.write_bursts()
                b.bursts = None  # flushed ones are gone: read again at the next join
                self._flush_bursts(ctx, item.event.occurred_at)
            elif item.group is None:
                continue
            elif kind in (EventKind.MEMBER_JOINED, EventKind.MEMBER_ADMITTED):
                # member_admitted: the join gate let a gated newcomer in
                self._joined(ctx, b, item, item.group)
            elif kind == EventKind.MESSAGE:
                s = self._settings(ctx, item.group)
                if not commands.answer(self._answers, ctx, item, item.group, s):
                    self._maybe_intro(ctx, b, item, item.group)
            elif kind == EventKind.MESSAGE_DELETED:
                self._not_an_intro(ctx, b, item)
            elif kind in (EventKind.MEMBER_LEFT, EventKind.MEMBER_KICKED):
                self._gone(b, item, item.group)
        b.write()
        self._welcomed.end_call()
        self._answers.end()

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        """Introductions live on the membership row, which the core forgets. A join of theirs
        held back for a combined welcome leaves it: the burst counts one less and no longer
        shows their name, and goes when nobody is left."""
        self._welcomed.forget(lambda key: key[1] == member_id)
        self._answers.forget_member(member_id)
        joins: dict[int, tuple[datetime, str]] = {
            int(group_id): (joined_at, name)
            for group_id, joined_at, name in conn.execute(
                select(_e.group_id, _e.occurred_at, _e.payload["user_name"].as_string())
                .where(
                    _e.member_id == member_id,
                    _e.kind.in_((EventKind.MEMBER_JOINED.value, EventKind.MEMBER_ADMITTED.value)),
                )
                .order_by(_e.seq)
            )
            if group_id is not None
        }
        b = _Batch(conn)
        b.burst_of(0)  # read them all
        assert b.bursts is not None
        for burst in list(b.bursts.values()):
            joined_at, name = joins.get(burst.group_id, (None, None))
            if burst.drop(member_id, name, joined_at):
                burst.dirty = True
                if burst.count <= 0:
                    b.empty(burst)
        b.write_bursts()

    # -- joins -----------------------------------------------------------------------------
    def _settings(self, ctx: BatchContext, group: GroupInfo) -> WelcomeSettings:
        return ctx.settings(self, group, WelcomeSettings)

    def _vars(self, ctx: BatchContext, group: GroupInfo, s: WelcomeSettings) -> dict[str, str]:
        return {"group": group.title, "rules": s.rules}

    def _joined(self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo) -> None:
        s = self._settings(ctx, group)
        event = item.event
        t = ctx.gettext(group)
        when = event.occurred_at
        if self._welcomed_lately(ctx, item, group, s):
            return  # back within rejoin_quiet_hours: welcomed already, no second welcome
        if item.member_id is not None:
            self._welcomed.note((group.id, item.member_id), when)
        burst = b.burst_of(group.id)
        name = event.user_name or event.user_id
        if burst is not None or self._recent(ctx, item, group, s) + 1 >= s.burst_threshold:
            self._hold(b, group, burst, item.member_id, name, when)
            return
        for action in self._welcome(ctx, group, s, t, name, event.user_id):
            ctx.emit(action, item)

    def _welcome(
        self,
        ctx: BatchContext,
        group: GroupInfo,
        s: WelcomeSettings,
        t: Callable[[str], str],
        name: str,
        user_id: str | None,
    ) -> list[Action]:
        """One newcomer's welcome, and the rules: privately to ``user_id`` where the platform
        allows, else in the group."""
        variables = {**self._vars(ctx, group, s), "name": name}
        text = ctx.templates.render(
            s.template or t(DEFAULT_TEMPLATE), variables, where="welcome.template"
        )
        if s.intro_prompt:
            text += "\n" + t(DEFAULT_INTRO)
        actions = [Action(ActionKind.SEND, group.source, group.chat_id, text=text)]
        if s.rules:
            rules = rules_text(ctx, group, s, t)
            can_dm = ctx.capabilities(group.source).can(ActionKind.DIRECT_MESSAGE)
            if s.rules_private and user_id is not None and can_dm:
                actions.append(
                    Action(
                        ActionKind.DIRECT_MESSAGE,
                        group.source,
                        group.chat_id,
                        user_id=user_id,
                        text=rules,
                    )
                )
            else:
                actions.append(Action(ActionKind.SEND, group.source, group.chat_id, text=rules))
        return actions

    @staticmethod
    def _recent(ctx: BatchContext, item: Incoming, group: GroupInfo, s: WelcomeSettings) -> int:
        """Joins of the same kind stored before this one within the burst window."""
        when = item.event.occurred_at
        return int(
            ctx.conn.execute(
                _RECENT_JOINS,
                {
                    "g": group.id,
                    "kind": item.event.kind.value,
                    "since": when - timedelta(seconds=s.burst_window_seconds),
                    "until": when,
                    "seq": item.seq,
                },
            ).scalar_one()
        )

    def _welcomed_lately(
        self, ctx: BatchContext, item: Incoming, group: GroupInfo, s: WelcomeSettings
    ) -> bool:
        """Whether the member was welcomed in the group within ``rejoin_quiet_hours`` (they
        are back: the join of someone who never left is not reported twice). Welcomed: their
        join went through welcome (one refused, as a blacklisted member's, or gated did not);
        with the join gate, their admission: a newcomer who left before passing it was never
        welcomed, and is."""
        if s.rejoin_quiet_hours <= 0 or item.member_id is None:
            return False
        when = item.event.occurred_at
        quiet = timedelta(hours=s.rejoin_quiet_hours)
        key = (group.id, item.member_id)
        last = self._welcomed.get(key)
        if last is None:

            def read(n: int) -> list[tuple[tuple[int, int], datetime]]:
                params = {
                    "g": group.id,
                    "kind": item.event.kind.value,
                    "since": when - quiet,
                    "seq": item.seq,
                    "n": n,
                }
                rows = ctx.conn.execute(_WELCOMES_SINCE, params).all()
                return [((group.id, int(m)), at) for m, at in rows]

            self._welcomed.load_group(group.id, read)
            last = self._welcomed.get(key)
            if last is None and not self._welcomed.complete(group.id):
                return self._left_after_a_welcome(ctx, item, group, quiet)
        return last is not None and timedelta(0) <= when - last < quiet

    @staticmethod
    def _left_after_a_welcome(
        ctx: BatchContext, item: Incoming, group: GroupInfo, quiet: timedelta
    ) -> bool:
        """What storage says for a group with more welcomes than memory keeps: whether the
        member left the group within ``quiet`` and was welcomed (a join of this kind) within
        it too."""
        assert item.member_id is not None
        when = item.event.occurred_at
        params = {
            "g": group.id,
            "m": item.member_id,
            "since": when - quiet,
            "until": when,
            "seq": item.seq,
        }
        if ctx.conn.execute(_LATELY, {**params, "kinds": _DEPARTURES}).first() is None:
            return False  # the usual join: nobody of that name left lately
        greeted = {**params, "kinds": [item.event.kind.value]}
        return ctx.conn.execute(_LATELY, greeted).first() is not None

    def _hold(
        self,
        b: _Batch,
        group: GroupInfo,
        burst: _Burst | None,
        member_id: int | None,
        name: str,
        when: datetime,
    ) -> None:
        if burst is None:
            assert b.bursts is not None
            burst = b.bursts[group.id] = _Burst(group.id, [], 0, when, when, new=True)
        burst.add(member_id, name)
        burst.last_join_at = max(when, burst.last_join_at)
        burst.dirty = True

    @staticmethod
    def _gone(b: _Batch, item: Incoming, group: GroupInfo) -> None:
        """A member left or was removed (an advertiser kicked, a blacklisted member removed
        everywhere): if their join is held back, the combined welcome neither names nor
        counts them."""
        if item.member_id is None:
            return
        burst = b.burst_of(group.id)
        if burst is None or not burst.drop(item.member_id, item.event.user_name, item.joined_at):
            return
        burst.dirty = True
        if burst.count <= 0:
            b.empty(burst)

    def _flush_bursts(self, ctx: BatchContext, now: datetime) -> None:
        rows = ctx.conn.execute(_SELECT_BURSTS).all()
        if not rows:
            return
        groups = {g.id: g for g in ctx.all_groups()}
        for row in rows:
            group = groups.get(row.group_id)
            if group is None:
                continue
            s = tick_settings(ctx, self, group, WelcomeSettings)
            if s is None:
                continue  # broken settings: left until they are repaired, other groups go on
            if not s.enabled:  # turned off while joins were held back: welcome no one
                ctx.conn.execute(_DELETE_BURST, {"g": row.group_id})
                continue
            calm = now - row.last_join_at >= timedelta(seconds=s.burst_window_seconds)
            if not calm and now - row.started_at < timedelta(seconds=s.burst_max_wait_seconds):
                continue  # still arriving: wait for the burst to calm down, or the longest wait
            t = ctx.gettext(group)
            burst = _Burst.read(row)
            if burst.count == 1 and len(burst.names) == 1:
                # one newcomer held back (the others left, or were welcomed one by one
                # before the burst began): their ordinary welcome
                user_id = self._user_id(ctx, group, burst.ids[0])
                for action in self._welcome(ctx, group, s, t, burst.names[0], user_id):
                    ctx.emit_for_group(action, group)
                ctx.conn.execute(_DELETE_BURST, {"g": row.group_id})
                continue
            shown = burst.names
            names = "、".join(shown) if group.language.startswith("zh") else ", ".join(shown)
            if burst.count > len(shown):
                names += " …"
            count = str(burst.count)
            variables = {**self._vars(ctx, group, s), "names": names, "count": count}
            text = ctx.templates.render(
                s.burst_template or t(DEFAULT_BURST), variables, where="welcome.burst_template"
            )
            if s.intro_prompt:
                text += "\n" + t(DEFAULT_INTRO)
            if s.rules:
                text += "\n\n" + rules_text(ctx, group, s, t)
            ctx.emit_for_group(
                Action(ActionKind.SEND, group.source, group.chat_id, text=text), group
            )
            ctx.conn.execute(_DELETE_BURST, {"g": row.group_id})

    @staticmethod
    def _user_id(ctx: BatchContext, group: GroupInfo, member_id: int | None) -> str | None:
        """The member's id on the group's platform (None: not known)."""
        if member_id is None:
            return None
        found = ctx.conn.execute(
            select(identities.c.user_id).where(
                identities.c.member_id == member_id, identities.c.source == group.source
            )
        ).scalar()
        return None if found is None else str(found)

    # -- introductions ---------------------------------------------------------------------
    def _maybe_intro(self, ctx: BatchContext, b: _Batch, item: Incoming, group: GroupInfo) -> None:
        if item.joined_at is None or item.member_id is None:
            return
        s = self._settings(ctx, group)
        when = item.event.occurred_at
        if when - item.joined_at > timedelta(hours=s.intro_window_hours):
            return
        if len(item.event.text.strip()) < s.intro_min_chars:
            return
        if is_command(ctx, group, item.event.text):
            return  # "/checkin read 20 pages" is a check-in, not who they are
        # the first one counts (introduced_at is set once): written with the batch's others
        b.intros.setdefault((group.id, item.member_id), when)

    @staticmethod
    def _not_an_intro(ctx: BatchContext, b: _Batch, item: Incoming) -> None:
        """Moderation removed a message of an earlier batch as an ad (a cross-group copy): if
        it was taken for the member's introduction, it no longer is."""
        removed = ctx.removed_message(item)
        if removed is None:
            return
        b.write()  # the batch's introductions so far, before the one taken back
        ctx.conn.execute(
            update(memberships)
            .where(
                _ms.group_id == removed.group_id,
                _ms.member_id == removed.member_id,
                _ms.introduced_at == removed.occurred_at,
            )
            .values(introduced_at=None)
        )
