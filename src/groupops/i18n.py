"""Translations through Babel catalogues (zh_CN, en). Messages are marked with ``N_`` or ``t``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "groupops"
LANGUAGES = ("zh_CN", "en")

#: how operators also write the languages (any case, - or _): read as the catalogue's code
LANGUAGE_SPELLINGS = {
    "zh_cn": "zh_CN",
    "zh": "zh_CN",
    "zh_hans": "zh_CN",
    "zh_hans_cn": "zh_CN",
    "cn": "zh_CN",
    "en": "en",
    "en_us": "en",
    "en_gb": "en",
}


def language_code(value: str) -> str | None:
    """The catalogue's code of a language as an operator writes it (``zh``, ``zh-CN``,
    ``zh_cn`` are ``zh_CN``; ``en-US`` is ``en``), None when groupops does not speak it."""
    if value in LANGUAGES:
        return value
    return LANGUAGE_SPELLINGS.get(value.strip().casefold().replace("-", "_"))


def N_(message: str) -> str:
    return message


def english(message: str) -> str:
    """The gettext of English: a message as written (the default of functions that take one)."""
    return message


def chosen_language(explicit: str | None = None) -> str:
    """The operator's language, one rule for every command, help page and listing:
    ``explicit`` (a command's ``--lang``), else ``GROUPOPS_LANG``, else the terminal's."""
    for value in (explicit, os.environ.get("GROUPOPS_LANG")):
        if value in LANGUAGES:
            return str(value)
    return operator_language()


def operator_language() -> str:
    """The language of the operator's terminal (LC_ALL, LC_MESSAGES, LANG), for CLI output."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh_CN" if value.lower().startswith("zh") else "en"
    return "en"


class Catalogs:
    """Loaded catalogues, owned by the App (no module-level state)."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._dir = locale_dir
        self._loaded: dict[str, NullTranslations] = {}

    def translations(self, language: str) -> NullTranslations:
        lang = language if language in LANGUAGES else "en"
        if lang not in self._loaded:
            self._loaded[lang] = Translations.load(str(self._dir), [lang], DOMAIN)
        return self._loaded[lang]

    def gettext(self, language: str) -> Callable[[str], str]:
        return self.translations(language).gettext

    def ngettext(self, language: str) -> Callable[[str, str, int], str]:
        """The singular or plural of a message for a count, in ``language``: call the result
        ``ngettext`` (``ngettext("{n} action", "{n} actions", n)``) for babel to extract it."""
        return self.translations(language).ngettext
