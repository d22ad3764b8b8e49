"""IRC logs, three layouts (one message a line; ``message_id`` is the 0-based line number):

* ``ubuntu``: the #ubuntu logs (irclogs.ubuntu.com, and ../shared/data/irc-ubuntu):
  ``[HH:MM] <nick> text``, ``[HH:MM]  * nick action``, ``=== nick [host]  has joined #chan``,
  ``=== nick [host]  has left #chan [reason]``, ``=== nick action`` (old /me). The date comes from
  the file name (``2004-11-15_03.raw.txt``); the clock running backwards by hours is midnight.
* ``irssi``: ``--- Log opened Mon Nov 15 03:00:00 2004``, ``--- Day changed Tue Nov 16 2004``,
  ``HH:MM[:SS] <@nick> text``, ``HH:MM  * nick action``, ``HH:MM -!- nick [host] has joined #c``,
  ``has left``/``has quit``, ``-!- X was kicked from #c by Y``.
* ``weechat``: ``YYYY-MM-DD HH:MM:SS<TAB>nick<TAB>text``; ``-->``/``<--`` lines for joins and
  departures, ``*`` for actions.

Times are local to the logging machine: ``Options.tz`` (default UTC).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from groupops.domain.events import Event, EventKind
from groupops.i18n import N_
from groupops.importers.base import (
    IMPOSSIBLE_DATE,
    IMPOSSIBLE_TIME,
    ImportFormatError,
    LocalClock,
    Options,
    file_key,
    read_head,
    utc_at,
)
from groupops.importers.encoding import LineText
from groupops.importers.events import trusted_event
from groupops.importers.text import text_kind

FORMAT = "irc"
SOURCE = "import:irc"
TIME_IN = N_("impossible time in {text!r}")

UBUNTU_MSG = re.compile(r"^\[(\d{2}):(\d{2})(?::(\d{2}))?\] <([^>]+)> ?(.*)$")
UBUNTU_STAMP = re.compile(r"^\[(\d{2}):(\d{2})(?::(\d{2}))?\] ")
UBUNTU_ACTION = re.compile(r"^\[(\d{2}):(\d{2})(?::(\d{2}))?\]  ?\* (\S+) ?(.*)$")
UBUNTU_SYS = re.compile(r"^=== (.*)$")
# nicks may hold brackets and (in this corpus) spaces: "bur[n] er [~n@host]  has joined #c"
JOINED = re.compile(r"^(.+?)\s+\[.*\]\s+has joined (\S+)")
LEFT = re.compile(r"^(.+?)\s+\[.*\]\s+has (?:left|quit)\b")
NICK = re.compile(r"^(.+?) is now known as (.+)$")
MODE = re.compile(r"^mode/\S+ \[")

IRSSI_MSG = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))? <[ @+%&~]?([^>]+)> ?(.*)$")
IRSSI_ACTION = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?  \* (\S+) ?(.*)$")
IRSSI_SYS = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))? -!- (.*)$")
IRSSI_KICK = re.compile(r"^(\S+) was kicked from \S+ by (\S+)")
IRSSI_DAY = re.compile(
    r"^--- (?:Day changed|Log opened) \w{3} (\w{3}) (\d{1,2})(?: [\d:]{8})? (\d{4})"
)

WEECHAT = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\t([^\t]*)\t(.*)$")
WEE_JOIN = re.compile(r"^(\S+) \([^)]*\) has joined (\S+)")
WEE_LEFT = re.compile(r"^(\S+) \([^)]*\) has (?:left|quit)\b")
WEE_KICK = re.compile(r"^(\S+) has kicked (\S+)")

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_NAME_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


def sniff(lines: list[str]) -> tuple[str, int] | None:
    """(layout, matching lines) for the sample's best IRC layout."""
    scores = {
        "ubuntu": sum(
            1
            for ln in lines
            if UBUNTU_MSG.match(ln) or UBUNTU_ACTION.match(ln) or ln.startswith("=== ")
        ),
        "irssi": sum(
            1
            for ln in lines
            if IRSSI_MSG.match(ln)
            or IRSSI_SYS.match(ln)
            or IRSSI_ACTION.match(ln)
            or ln.startswith("--- ")
        ),
        "weechat": sum(1 for ln in lines if WEECHAT.match(ln)),
    }
    layout, n = max(scores.items(), key=lambda kv: kv[1])
    return (layout, n) if n else None


def _nick(raw: str) -> str:
    return raw.lstrip("@+%&~ ").strip()[:255]


class IrcReader:
    def __init__(self, path: Path, options: Options, layout: str | None = None) -> None:
        self.path = path
        self.options = options
        head = read_head(path)
        self.key = file_key(head, FORMAT)
        if layout is None:
            sample = head.decode("utf-8", errors="replace").splitlines()[:400]
            found = sniff(sample)
            if found is None:
                raise ImportFormatError(N_("no IRC log line in the first lines"), file=path.name)
            layout = found[0]
        self.layout = layout
        stem = path.name.split(".")[0]
        self.chat_id = re.sub(r"[_-]?\d{4}-?\d{2}-?\d{2}.*$", "", stem) or "irc"
        if self.chat_id == stem and _NAME_DATE.search(stem):
            self.chat_id = "irc"
        self.clock = LocalClock(options.tz)

    def _file_day(self) -> int | None:
        m = _NAME_DATE.search(self.path.name)
        if not m:
            return None
        try:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).toordinal()
        except ValueError:
            return None

    def records(self) -> Iterator[tuple[int, int, EventKind, str, str, dict[str, Any]]]:
        """(line, epoch, kind, nick, text, extras) in file order."""
        name = self.path.name
        with self.path.open("rb") as raw:
            text = LineText(raw)
            lines = iter(text)
            if self.layout == "ubuntu":
                yield from self._ubuntu(lines, name)
            elif self.layout == "irssi":
                yield from self._irssi(lines, name)
            else:
                yield from self._weechat(lines, name)
        text.note(name, self.options)

    def _ubuntu(
        self, lines: Iterator[str], name: str
    ) -> Iterator[tuple[int, int, EventKind, str, str, dict[str, Any]]]:
        day = self._file_day()
        if day is None:
            raise ImportFormatError(
                N_("this IRC layout keeps no date: name the file with its date (YYYY-MM-DD)"),
                file=name,
            )
        last = -1
        epoch = self.clock.epoch
        for i, line in enumerate(lines):
            m = UBUNTU_MSG.match(line)
            action = False
            if m is None:
                m = UBUNTU_ACTION.match(line)
                action = m is not None
            if m is not None:
                secs = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3) or 0)
                if secs >= 86400:
                    raise ImportFormatError(TIME_IN, file=name, line=i, text=line[:12])
                if secs < last - 6 * 3600:
                    day += 1  # past midnight
                last = secs
                extra: dict[str, Any] = {"action": True} if action else {}
                nick = m.group(4).strip()
                yield (i, epoch(day, secs), EventKind.MESSAGE, nick, m.group(5), extra)
                continue
            if UBUNTU_STAMP.match(line):
                continue  # a stamped line of no known shape (relayed notices): not a message
            s = UBUNTU_SYS.match(line)
            when = epoch(day, max(last, 0))
            if s is not None:
                body = s.group(1)
                j = JOINED.match(body)
                if j:
                    yield (i, when, EventKind.MEMBER_JOINED, j.group(1), "", {})
                    continue
                lft = LEFT.match(body)
                if lft and not j:
                    yield (i, when, EventKind.MEMBER_LEFT, lft.group(1), "", {})
                    continue
                if NICK.match(body) or MODE.match(body):
                    continue
                nick, _, text = body.partition(" ")
                if nick and text:  # the old "=== nick does something" action
                    yield (i, when, EventKind.MESSAGE, nick, text, {"action": True})
                continue
            if line.strip():
                raise ImportFormatError(
                    N_("not an IRC log line: {text!r}"), file=name, line=i, text=line[:60]
                )

    def _irssi(
        self, lines: Iterator[str], name: str
    ) -> Iterator[tuple[int, int, EventKind, str, str, dict[str, Any]]]:
        day = self._file_day()
        last = -1
        epoch = self.clock.epoch
        for i, line in enumerate(lines):
            if line.startswith("--- "):
                d = IRSSI_DAY.match(line)
                if d:
                    month = _MONTHS.get(d.group(1).lower())
                    try:
                        day = date(int(d.group(3)), month or 0, int(d.group(2))).toordinal()
                    except ValueError:
                        raise ImportFormatError(
                            N_("unreadable date in {text!r}"), file=name, line=i, text=line[:60]
                        ) from None
                    last = -1
                continue
            m = IRSSI_MSG.match(line) or IRSSI_ACTION.match(line)
            sysm = None if m else IRSSI_SYS.match(line)
            hit = m or sysm
            if hit is None:
                if line.strip():
                    raise ImportFormatError(
                        N_("not an irssi log line: {text!r}"), file=name, line=i, text=line[:60]
                    )
                continue
            if day is None:
                raise ImportFormatError(
                    N_(
                        "no date yet: the log needs a '--- Log opened' or '--- Day changed' "
                        "line or a date in the file name"
                    ),
                    file=name,
                    line=i,
                )
            secs = int(hit.group(1)) * 3600 + int(hit.group(2)) * 60 + int(hit.group(3) or 0)
            if secs >= 86400:
                raise ImportFormatError(TIME_IN, file=name, line=i, text=line[:12])
            if secs < last - 6 * 3600:
                day += 1
            last = secs
            when = epoch(day, secs)
            if m is not None:
                extra: dict[str, Any] = {"action": True} if "  * " in line[:12] else {}
                yield (i, when, EventKind.MESSAGE, _nick(m.group(4)), m.group(5), extra)
                continue
            assert sysm is not None
            body = sysm.group(4)
            j = JOINED.match(body)
            if j:
                yield (i, when, EventKind.MEMBER_JOINED, j.group(1), "", {})
            elif LEFT.match(body):
                yield (i, when, EventKind.MEMBER_LEFT, body.split(" ", 1)[0], "", {})
            else:
                k = IRSSI_KICK.match(body)
                if k:
                    yield (
                        i,
                        when,
                        EventKind.MEMBER_LEFT,
                        k.group(1),
                        "",
                        {"removed_by": k.group(2)},
                    )

    def _weechat(
        self, lines: Iterator[str], name: str
    ) -> Iterator[tuple[int, int, EventKind, str, str, dict[str, Any]]]:
        epoch = self.clock.epoch
        for i, line in enumerate(lines):
            m = WEECHAT.match(line)
            if m is None:
                if line.strip():
                    raise ImportFormatError(
                        N_("not a weechat log line: {text!r}"), file=name, line=i, text=line[:60]
                    )
                continue
            try:
                day = date(int(m.group(1)), int(m.group(2)), int(m.group(3))).toordinal()
            except ValueError:
                raise ImportFormatError(
                    IMPOSSIBLE_DATE, file=name, line=i, date=line[:10]
                ) from None
            secs = int(m.group(4)) * 3600 + int(m.group(5)) * 60 + int(m.group(6))
            if secs >= 86400:
                raise ImportFormatError(IMPOSSIBLE_TIME, file=name, line=i, time=line[11:19])
            when = epoch(day, secs)
            prefix, body = m.group(7).strip(), m.group(8)
            if prefix == "-->":
                j = WEE_JOIN.match(body)
                if j:
                    yield (i, when, EventKind.MEMBER_JOINED, j.group(1), "", {})
            elif prefix == "<--":
                k = WEE_KICK.match(body)
                if k:
                    yield (
                        i,
                        when,
                        EventKind.MEMBER_LEFT,
                        k.group(2),
                        "",
                        {"removed_by": k.group(1)},
                    )
                elif WEE_LEFT.match(body):
                    yield (i, when, EventKind.MEMBER_LEFT, body.split(" ", 1)[0], "", {})
            elif prefix in ("--", "=!=", "", " "):
                continue
            elif prefix == "*":
                nick, _, text = body.partition(" ")
                yield (i, when, EventKind.MESSAGE, _nick(nick), text, {"action": True})
            else:
                yield (i, when, EventKind.MESSAGE, _nick(prefix), body, {})


def events(path: Path, options: Options, layout: str | None = None) -> Iterator[Event]:
    reader = IrcReader(path, options, layout)
    fname, key, chat = path.name, reader.key, reader.chat_id
    for line, epoch, kind, nick, text, extra in reader.records():
        if not nick:
            continue
        data: dict[str, Any] = {"file": fname, "line": line, "layout": reader.layout}
        data.update(extra)
        yield trusted_event(
            SOURCE,
            f"{key}:{line}",
            kind,
            utc_at(epoch, fname, line),
            chat,
            nick[:255],
            nick,
            str(line) if kind == EventKind.MESSAGE else "",
            text,
            text_kind(text),
            data,
        )
