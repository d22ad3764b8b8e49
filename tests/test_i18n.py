"""Every user-facing string is in the catalogues, translated into Chinese, and used."""

from __future__ import annotations

import string
from collections.abc import Callable

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from groupops.engine.app import App
from groupops.i18n import LOCALE_DIR, Catalogs
from tests.conftest import REPO


def code_messages() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "t": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(REPO / "src"), method_map=[("**.py", "python")], keywords=keywords
    ):
        if isinstance(message, str) and message:
            found.add(message)
    return found


def test_catalogue_is_up_to_date_and_fully_translated() -> None:
    with (LOCALE_DIR / "zh_CN/LC_MESSAGES/groupops.po").open("rb") as f:
        zh = read_po(f, locale="zh_CN")
    ids = {m.id for m in zh if m.id}
    missing = code_messages() - ids
    assert not missing, f"run `make i18n-extract`: not in the catalogue: {sorted(missing)}"
    untranslated = sorted(m.id for m in zh if m.id and not m.string)
    assert not untranslated, f"no Chinese for: {untranslated}"


def test_a_chinese_group_is_welcomed_in_chinese(make_app: Callable[..., App]) -> None:
    assert Catalogs().gettext("zh_CN")("The rules of {{ group }}:") == "「{{ group }}」群规："
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))
    app.sandbox.create_chat("g1", "读书会")
    app.handle([app.sandbox.join("g1", "u1", "小红")])  # new groups speak zh_CN by default
    from sqlalchemy import select

    from groupops.storage.tables import outbox

    with app.db.connect() as conn:
        text = conn.execute(select(outbox.c.payload)).scalar_one()["text"]
    assert text.startswith("欢迎 小红 加入「读书会」！") and "请简单介绍一下自己" in text


def _fields(text: str) -> set[str]:
    return {
        f"{name}!{conv}" if conv else name
        for _lit, name, _spec, conv in string.Formatter().parse(text)
        if name is not None
    }


def test_translations_fill_the_same_values_as_the_english() -> None:
    """A message filled with str.format (typed errors, command output) names the same values
    in Chinese: a translation that lost or misspelt one would hide the error it reports."""
    with (LOCALE_DIR / "zh_CN/LC_MESSAGES/groupops.po").open("rb") as f:
        zh = read_po(f, locale="zh_CN")
    wrong = []
    for m in zh:
        if not m.id or not m.string or not isinstance(m.id, str):
            continue
        try:
            english = _fields(m.id)
        except ValueError:
            continue  # not a str.format text (a Jinja template with a lone brace, say)
        try:
            chinese = _fields(str(m.string))
        except ValueError:
            wrong.append((m.id, m.string))
            continue
        if english != chinese:
            wrong.append((m.id, m.string))
    assert not wrong, wrong


def test_a_typed_error_is_localized_with_its_values() -> None:
    from groupops.domain.errors import NotFound
    from groupops.i18n import N_

    exc = NotFound(N_("no group {ref!r}"), where=N_("group"), ref="sandbox:x")
    assert str(exc) == "group: no group 'sandbox:x'"
    zh = Catalogs().gettext("zh_CN")
    assert exc.localized(zh) == "群：没有群 'sandbox:x'"
    assert exc.localized(Catalogs().gettext("en")) == str(exc)
    # a broken translation (a value it does not have) shows the English, never a KeyError
    assert exc.localized(lambda s: "没有群 {nope}" if s.startswith("no") else s) == str(exc)
    # text outside the catalogues, and braces in it, stay as written
    plain = NotFound("no {such} thing")
    assert plain.localized(zh) == str(plain) == "no {such} thing"


def test_catalogues_define_each_message_once() -> None:
    """A catalogue holds each message once: no obsolete (``#~``) copy of a message the code
    still uses (``pybabel update`` marked help texts obsolete that the merge then added back,
    and GNU ``msgfmt -c``, which translators' tools run, refused the files as duplicates).
    ``make i18n-extract`` drops obsolete entries (``--ignore-obsolete``)."""
    for lang in ("zh_CN", "en"):
        with (LOCALE_DIR / lang / "LC_MESSAGES/groupops.po").open("rb") as f:
            catalog = read_po(f, locale=lang)
        assert not catalog.obsolete, (lang, sorted(catalog.obsolete)[:5])
