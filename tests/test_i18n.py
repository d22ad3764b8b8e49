"""Every user-facing string is in the catalogues, translated into Chinese, and used."""

from __future__ import annotations

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
