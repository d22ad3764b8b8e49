"""Merge zh_CN translations into the catalogue: from the ``*.po-fragment`` files features keep
beside their code, from ``src/groupops/locale/zh_CN.extra.po`` and from
``src/groupops/locale/zh_CN.help.po`` (the command line's help pages) and
``src/groupops/locale/zh_CN.typer.po`` (Typer's own words). Run after ``make i18n-extract``;
entries already translated in the catalogue are kept."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "src/groupops/locale/zh_CN/LC_MESSAGES/groupops.po"


def _translated(string: object) -> bool:
    """Whether a catalogue entry has its translation: a plural one (ngettext) is a tuple of
    forms, ('',) when it has none."""
    if isinstance(string, tuple | list):
        return any(string)
    return bool(string)


def sources(root: Path = ROOT) -> list[Path]:
    """The files translations are taken from, in the order they are read."""
    found = sorted(root.glob("src/groupops/**/zh_CN.po-fragment"))
    found += [root / "src/groupops/locale/zh_CN.extra.po"]
    found += [root / "src/groupops/locale/zh_CN.help.po"]
    found += [root / "src/groupops/locale/zh_CN.typer.po"]
    return [path for path in found if path.exists()]


def fill(catalogue: Catalog, *, root: Path = ROOT, add_missing: bool = False) -> int:
    """Give every untranslated entry of ``catalogue`` its translation from :func:`sources`;
    an entry already translated is kept. ``add_missing``: an id the catalogue does not have
    yet is added with its translation, as ``make i18n-extract`` would first add it (the tests
    use this to speak the Chinese a change will ship with before the catalogue is refreshed).
    Returns how many entries were filled or added."""
    filled = 0
    for path in sources(root):
        with path.open("rb") as f:
            fragment = read_po(f, locale="zh_CN")
        for message in fragment:
            if not message.id or not message.string:
                continue
            target = catalogue.get(message.id)
            if target is None and add_missing:
                catalogue.add(message.id, message.string)
                filled += 1
            elif target is not None and not _translated(target.string):
                target.string = message.string
                filled += 1
    return filled


def main() -> int:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="zh_CN")
    filled = fill(catalogue)
    missing = [m.id for m in catalogue if m.id and not _translated(m.string)]
    with CATALOGUE.open("wb") as f:
        write_po(f, catalogue, width=100, omit_header=False, sort_output=True)
    print(f"filled {filled}; untranslated {len(missing)}")
    for mid in missing:
        print(f"  missing: {mid!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
