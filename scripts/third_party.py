"""The licences of everything groupops runs with: THIRD_PARTY.md, and the check that none is
GPL or AGPL (groupops is Apache-2.0; the LGPL libraries it uses unmodified are fine).

    .venv/bin/python scripts/third_party.py            # rewrite THIRD_PARTY.md
    .venv/bin/python scripts/third_party.py --check    # exit 1 if it is stale or a licence is GPL

The runtime tree is groupops' own requirements (no extras: the test, lint and bench tools are not
shipped), followed through each installed distribution's requirements for this Python.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "THIRD_PARTY.md"

#: distributions whose metadata names no licence, as their repositories' LICENSE files say
STATED_BY_HAND = {
    "itsdangerous": "BSD-3-Clause",
    "jinja2": "BSD-3-Clause",
    "markdown-it-py": "MIT",
    "matrix-nio": "ISC",
    "mdurl": "MIT",
    "starlette-csrf": "MIT",
    "scipy": "BSD-3-Clause",  # its metadata holds the licence text, not a name
}
#: what may be used unmodified as a library by an Apache-2.0 program, with a word on why
WEAK_COPYLEFT = {
    "LGPL-3.0-only": "used unmodified as a library; its source is on PyPI",
    "LGPL-3.0-or-later": "used unmodified as a library; its source is on PyPI",
    "MPL-2.0": "used unmodified; file-level copyleft applies only to changes of its own files",
}
_STRONG = re.compile(r"(?<![L])\bA?GPL|GNU (Affero )?General Public", re.IGNORECASE)


@dataclass(frozen=True)
class Dist:
    name: str
    version: str
    licence: str


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _licence(dist: md.Distribution) -> str:
    name = _norm(dist.metadata["Name"])
    if name in STATED_BY_HAND:
        return STATED_BY_HAND[name]
    expression = dist.metadata["License-Expression"]
    if expression:
        return str(expression).strip()
    declared = (dist.metadata["License"] or "").strip()
    if declared and "\n" not in declared and len(declared) < 60:
        return declared
    classifiers = [
        c.split(" :: ")[-1]
        for c in dist.metadata.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    return " / ".join(classifiers) or "unknown"


def runtime_tree(root: str = "groupops") -> list[Dist]:
    """Every distribution groupops needs at run time, itself left out, sorted by name: the
    requirements of each, with the extras asked for (``psycopg[binary]``)."""
    seen: dict[str, Dist] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        item = todo.pop()
        if item in done:
            continue
        done.add(item)
        dist = md.distribution(item[0])
        for raw in dist.requires or []:
            req = Requirement(raw)
            wanted = req.marker is None or any(
                req.marker.evaluate({"extra": extra}) for extra in ("", *item[1])
            )
            if not wanted:
                continue  # an extra not asked for, or not for this Python
            try:
                found = md.distribution(req.name)
            except md.PackageNotFoundError:
                continue  # optional on this platform and not installed
            name = _norm(req.name)
            seen.setdefault(name, Dist(name, found.version, _licence(found)))
            todo.append((req.name, frozenset(req.extras)))
    return sorted(seen.values(), key=lambda d: d.name)


def unknown(dists: list[Dist]) -> list[Dist]:
    return [d for d in dists if d.licence == "unknown"]


def strong_copyleft(dists: list[Dist]) -> list[Dist]:
    return [d for d in dists if _STRONG.search(d.licence)]


def render(dists: list[Dist]) -> str:
    lines = [
        "# Third-party software",
        "",
        "groupops is Apache-2.0. These are the libraries it runs with (its runtime",
        "dependencies and theirs, as installed by `make setup`; test, lint and benchmark tools",
        "are not shipped).",
        "None is GPL or AGPL (`scripts/third_party.py --check`, run by the tests).",
        "Synapse (AGPL), which the Matrix tests start, lives in a virtual environment of its own",
        "and is never imported by groupops.",
        "",
        "Regenerate with `.venv/bin/python scripts/third_party.py`.",
        "",
        "| distribution | version | licence |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {d.name} | {d.version} | {d.licence} |" for d in dists]
    weak = [d for d in dists if d.licence in WEAK_COPYLEFT]
    if weak:
        lines += ["", "Weak copyleft, and why it is fine here:", ""]
        lines += [f"- {d.name} ({d.licence}): {WEAK_COPYLEFT[d.licence]}." for d in weak]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    dists = runtime_tree()
    bad = strong_copyleft(dists)
    for d in bad:
        print(f"{d.name} {d.version} is {d.licence}: not allowed at run time", file=sys.stderr)
    for d in unknown(dists):
        print(f"{d.name} {d.version}: no licence in its metadata; add it to STATED_BY_HAND")
    bad += unknown(dists)
    text = render(dists)
    if args.check:
        stale = not OUT.exists() or OUT.read_text(encoding="utf-8") != text
        if stale:
            print(f"{OUT.name} is out of date: run scripts/third_party.py", file=sys.stderr)
        return 1 if bad or stale else 0
    OUT.write_text(text, encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
