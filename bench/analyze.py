"""Import plus full analysis of a large WhatsApp export, against whatstk parsing the same file.

    .venv/bin/python bench/analyze.py [--cache DIR] [--replay N] [--only groupops|whatstk]

1. Writes the real #ubuntu IRC logs in ../shared/data/irc-ubuntu (train + dev, ~233k lines)
   as one WhatsApp-layout export (Android, ``dd/mm/yyyy, HH:MM - name: text``; joins become
   "X joined using this group's invite link", departures "X left"), and a ~1M-message file
   that replays it in time: copies shifted by the span of the logs, one after the other.
   Both are cached under ``bench/out/cache`` (git-ignored) and rebuilt when missing.
2. For each file, in a fresh subprocess each (so peak memory is that run's own ``ru_maxrss``):
   groupops' import + full analysis (what ``groupops analyze`` does before rendering), timed by
   phase, and then whatstk's ``df_from_whatsapp`` parsing the same file (whatstk is a
   bench-only extra: ``uv sync --extra bench``).
3. Prints seconds, peak memory and the ratio whatstk / groupops, against both ways of calling
   whatstk: with the header layout given (its faster path, the stricter baseline) and as a
   plain ``df_from_whatsapp(path)`` call, which finds the layout itself (the issue's reference,
   18.2 s for the 888k-message replay, matches this one). The goal: groupops' whole
   import + analysis ten times faster than whatstk's parse alone, under 1 GB peak.

Library import time is left out of both timings (``import pandas`` for whatstk; numpy, scipy,
networkx and jieba's code for groupops, which ``analyze_files`` would load on first use); it is
printed separately. Loading models and jieba's dictionary is timed.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
IRC = ROOT.parent / "shared" / "data" / "irc-ubuntu"
CACHE = ROOT / "bench" / "out" / "cache"
WHATSTK_FORMAT = "%d/%m/%Y, %H:%M - %name:"
GOAL_SPEEDUP = 10.0
GOAL_PEAK_MB = 1024.0

_MSG = re.compile(r"^\[(\d\d):(\d\d)\] <([^>]+)> (.*)$")
_ACTION = re.compile(r"^\[(\d\d):(\d\d)\]  ?\* (\S+) (.*)$")
_SYS = re.compile(r"^=== (\S+) \[[^\]]*\]\s+has (joined|left|quit)\b")
_NOTICE = re.compile(r"^\[(\d\d):(\d\d)\] (?:\((\S+?)/#\S+\)|-(\S+?):#\S+-) (.*)$")
_OTHER = re.compile(r"^=== (\S+) (.*)$")  # nick changes, modes, the old "/me"
_FILE_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[._]")

# One record: (day ordinal, "HH:MM", the rest of the WhatsApp line after " - ")
Record = tuple[int, str, str]


def irc_records() -> Iterator[Record]:
    """The IRC logs in time order as WhatsApp line bodies: every line of the logs but the 26
    empty messages. Joins and departures become WhatsApp notices; other ``===`` lines (nick
    changes, modes, the old /me) a message of that nick. ``===`` lines carry the time of the
    line before them (the #ubuntu logs write none)."""
    files = sorted(IRC.glob("*/*.raw.txt"), key=lambda p: p.name)
    if not files:
        raise SystemExit(f"no IRC logs in {IRC}: see ../shared/data/README.md")
    for path in files:
        m = _FILE_DATE.match(path.name)
        if not m:
            continue
        day = date(int(m[1]), int(m[2]), int(m[3])).toordinal()
        hhmm = "00:00"
        with path.open(encoding="utf-8", errors="replace") as f:
            for raw in f:
                line = raw.rstrip("\r\n")
                if mm := _MSG.match(line):
                    hhmm = f"{mm[1]}:{mm[2]}"
                    nick, text = mm[3], mm[4]
                elif mm := _ACTION.match(line):
                    hhmm = f"{mm[1]}:{mm[2]}"
                    nick, text = mm[3], f"* {mm[4]}"
                elif mm := _SYS.match(line):
                    verb = mm[2]
                    body = (
                        f"{mm[1]} joined using this group's invite link"
                        if verb == "joined"
                        else f"{mm[1]} left"
                    )
                    yield day, hhmm, body
                    continue
                elif mm := _NOTICE.match(line):
                    hhmm = f"{mm[1]}:{mm[2]}"
                    nick, text = mm[3] or mm[4], mm[5]
                elif mm := _OTHER.match(line):
                    nick, text = mm[1], f"* {mm[2]}"
                else:
                    continue
                if not text.strip():
                    continue
                # a nick ending in ":" would make the header ambiguous for any parser
                yield day, hhmm, f"{nick.rstrip(':')}: {text}"


def _line(day: int, hhmm: str, body: str) -> str:
    d = date.fromordinal(day)
    return f"{d.day:02d}/{d.month:02d}/{d.year}, {hhmm} - {body}\n"


def build_files(cache: Path, replay_target: int) -> tuple[Path, Path, int, int]:
    """The ~235k-line WhatsApp file and its replay to ``replay_target`` messages."""
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / "irc-ubuntu-whatsapp.txt"
    big = cache / f"irc-ubuntu-whatsapp-replay-{replay_target}.txt"
    records: list[Record] | None = None
    if not base.exists():
        records = list(irc_records())
        tmp = base.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            f.write(_line(records[0][0], "00:00", 'You created group "#ubuntu"'))
            for day, hhmm, body in records:
                f.write(_line(day, hhmm, body))
        tmp.replace(base)
    if not big.exists():
        if records is None:
            records = list(irc_records())
        span = records[-1][0] - records[0][0] + 1
        copies = -(-replay_target // len(records))
        tmp = big.with_suffix(".tmp")
        written = 0
        with tmp.open("w", encoding="utf-8") as f:
            f.write(_line(records[0][0], "00:00", 'You created group "#ubuntu"'))
            for k in range(copies):
                shift = k * span
                for day, hhmm, body in records:
                    if written >= replay_target:
                        break
                    f.write(_line(day + shift, hhmm, body))
                    written += 1
        tmp.replace(big)
    return base, big, _count_lines(base), _count_lines(big)


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))


# -- the measured runs (each in its own process) ---------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _import_groupops_libraries() -> None:
    """The modules ``analyze_files`` loads on first use (numpy, scipy, networkx, jieba's code,
    the analytics): library import time, left out of the timing as whatstk's ``import pandas``
    is. Loading models and dictionaries (jieba's) stays in the timed part."""
    import jieba  # noqa: F401
    import networkx  # noqa: F401
    import scipy.sparse  # type: ignore[import-untyped]
    import scipy.sparse.csgraph  # type: ignore[import-untyped]  # noqa: F401
    import threadpoolctl  # type: ignore[import-untyped]  # noqa: F401

    import groupops.analytics
    import groupops.analytics.keywords
    import groupops.analytics.replies
    import groupops.analytics.textmodels
    import groupops.importers  # noqa: F401


def worker_groupops(path: Path) -> dict[str, Any]:
    t0 = time.perf_counter()
    from groupops.report.pipeline import analyze_files

    _import_groupops_libraries()
    t_lib = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = analyze_files([path])
    seconds = time.perf_counter() - t1
    phases = dict(result.metrics.get("meta", {}).get("seconds", {}))
    # the analytics time their own stages; what comes before them is the import
    phases = {"import": round(seconds - sum(phases.values()), 3), **phases}
    return {
        "library_import_s": t_lib,
        "seconds": seconds,
        "events": result.events,
        "messages": result.messages,
        "peak_mb": _peak_mb(),
        "phases": phases,
    }


def worker_import_only(path: Path) -> dict[str, Any]:
    """The importer alone, as ``analyze`` reads the file (WhatsApp as event columns, other
    formats as events drained), nothing analysed: tells import from analysis."""
    from groupops.importers import read, read_event_columns

    t1 = time.perf_counter()
    cols = read_event_columns(path)
    n = len(cols) if cols is not None else sum(1 for _ in read(path))
    return {"seconds": time.perf_counter() - t1, "events": n, "peak_mb": _peak_mb()}


def worker_whatstk(path: Path, detect: bool = False) -> dict[str, Any]:
    """whatstk's parse of ``path``: with the header layout given (its faster path), or with
    ``detect``, as a plain ``df_from_whatsapp(path)`` call does, finding the layout itself
    (the issue's reference figure, 18.2 s for the 888k-message replay, matches this call)."""
    t0 = time.perf_counter()
    from whatstk import df_from_whatsapp  # type: ignore[import-untyped,unused-ignore]

    t_lib = time.perf_counter() - t0
    t1 = time.perf_counter()
    if detect:  # no 50 MB input cap, as in both calls
        df = df_from_whatsapp(str(path), max_size=None)
    else:
        df = df_from_whatsapp(str(path), auto_header=False, hformat=WHATSTK_FORMAT, max_size=None)
    seconds = time.perf_counter() - t1
    return {
        "library_import_s": t_lib,
        "seconds": seconds,
        "messages": len(df),
        "peak_mb": _peak_mb(),
    }


def worker_profile(path: Path, out: Path) -> dict[str, Any]:
    """cProfile of groupops' import + analysis, the top functions by own time, to ``out``."""
    import cProfile
    import pstats

    from groupops.report.pipeline import analyze_files

    _import_groupops_libraries()
    prof = cProfile.Profile()
    prof.enable()
    analyze_files([path])
    prof.disable()
    prof.dump_stats(str(out))
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime")
    rows = []
    for func, (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((tt, ct, nc, f"{Path(func[0]).name}:{func[1]}({func[2]})"))
    rows.sort(reverse=True)
    return {
        "top": [{"own_s": r[0], "cum_s": r[1], "calls": r[2], "where": r[3]} for r in rows[:25]]
    }


def run_worker(kind: str, path: Path, extra: list[str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--worker", kind, str(path), *(extra or [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def _fmt(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"failed: {run['error']}"
    return f"{run['seconds']:7.2f} s  {run['peak_mb']:7.0f} MB peak"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--replay", type=int, default=1_000_000, help="messages in the replay file")
    ap.add_argument("--only", choices=("groupops", "whatstk"), default=None)
    ap.add_argument("--profile", action="store_true", help="also profile groupops on each file")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        kind, path = args.worker[0], Path(args.worker[1])
        if kind == "groupops":
            res = worker_groupops(path)
        elif kind == "whatstk":
            res = worker_whatstk(path)
        elif kind == "whatstk-detect":
            res = worker_whatstk(path, detect=True)
        elif kind == "import":
            res = worker_import_only(path)
        else:
            res = worker_profile(path, Path(args.worker[2]))
        print(json.dumps(res))
        return 0

    t0 = time.perf_counter()
    base, big, n_base, n_big = build_files(args.cache, args.replay)
    print(f"data: {base.name} ({n_base:,} lines), {big.name} ({n_big:,} lines)", end="")
    print(f"  [{time.perf_counter() - t0:.1f} s]")
    figures: dict[str, Any] = {}
    for label, path in (("IRC as WhatsApp", base), ("1M replay", big)):
        print(f"\n{label}: {path.name}, {path.stat().st_size / 1e6:.0f} MB")
        row: dict[str, Any] = {"file": path.name, "lines": _count_lines(path)}
        if args.only in (None, "groupops"):
            g = run_worker("groupops", path)
            row["groupops"] = g
            print(f"  groupops import+analysis {_fmt(g)}", end="")
            if "error" not in g:
                print(f"  (+{g['library_import_s']:.2f} s library import)", end="")
            if "error" not in g:
                imp = run_worker("import", path)
                row["groupops_import_only"] = imp
                split = (
                    f"import alone {imp['seconds']:.2f} s / {imp['peak_mb']:.0f} MB"
                    if "error" not in imp
                    else f"import alone {_fmt(imp)}"
                )
                print(f"  ({g['messages']:,} messages; {split})")
                phases = "  ".join(f"{k} {v:.2f}" for k, v in g.get("phases", {}).items())
                print(f"    phases (s): {phases}")
            else:
                print()
        if args.only in (None, "whatstk"):
            for key, name in (("whatstk", "header given"), ("whatstk_detect", "header found")):
                w = run_worker(key.replace("_", "-"), path)
                row[key] = w
                print(f"  whatstk parse alone ({name}) {_fmt(w)}", end="")
                if "error" not in w:
                    print(f"  (+{w['library_import_s']:.2f} s library import)", end="")
                print(f"  ({w['messages']:,} messages)" if "error" not in w else "")
        g = row.get("groupops", {})
        for key, name in (("whatstk", "header given"), ("whatstk_detect", "header found")):
            w = row.get(key, {})
            if not (g and w and "error" not in g and "error" not in w):
                continue
            speedup = w["seconds"] / g["seconds"]
            row["speedup" if key == "whatstk" else "speedup_detect"] = speedup
            ok_speed = "meets" if speedup >= GOAL_SPEEDUP else "misses"
            ok_mem = "meets" if g["peak_mb"] <= GOAL_PEAK_MB else "misses"
            print(
                f"  ratio against whatstk ({name}): groupops is {speedup:.2f}x its speed"
                f" (groupops/whatstk time {g['seconds'] / w['seconds']:.3f});"
                f" {ok_speed} the 10x goal; peak {g['peak_mb']:.0f} MB {ok_mem} the 1 GB goal"
            )
        if args.profile:
            prof = run_worker("profile", path, [str(args.cache / f"{path.stem}.prof")])
            row["profile"] = prof
            for r in prof.get("top", [])[:15]:
                print(f"    {r['own_s']:7.2f} s own {r['cum_s']:7.2f} s cum  {r['where']}")
        figures[label] = row
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
