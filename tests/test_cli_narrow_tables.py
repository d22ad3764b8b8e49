"""At 80 columns the listings keep what an operator reads most (names, titles, statuses)
whole, wrapped onto more lines if they must, and let the rest give way first: a column holding
one value on every row (a time zone, a source) is said once under the table, a long user id
is cut with "…"."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import typer
from rich.cells import cell_len
from rich.console import Console
from sqlalchemy import create_engine, text

from tests.cli import run

CHINESE = "欧阳明月"  # 4 characters
ENGLISH = "Maximilian Oberhuber"  # 20 characters
assert len(CHINESE) == 4 and len(ENGLISH) == 20


@pytest.fixture(scope="module")
def demo(cli: typer.Typer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("narrow") / "demo.sqlite"
    res = run(
        cli,
        "demo",
        "--days",
        "2",
        "--members",
        "40",
        "--json",
        "--database-url",
        f"sqlite:///{path}",
    )
    assert res.exit_code == 0, res.output
    return path


@pytest.fixture
def named(demo: Path, tmp_path: Path) -> str:
    """The demo with long names: two members (those of the two latest moderation decisions),
    and two groups' titles."""
    path = tmp_path / "named.sqlite"
    shutil.copy(demo, path)
    db = create_engine(f"sqlite:///{path}")
    with db.begin() as conn:
        latest = (
            conn.execute(text("SELECT id FROM moderation_decisions ORDER BY id DESC LIMIT 2"))
            .scalars()
            .all()
        )
        people = conn.execute(text("SELECT id FROM members ORDER BY id LIMIT 2")).scalars().all()
        assert len(latest) == 2 and len(people) == 2, (latest, people)
        for decision, member, name in zip(latest, people, (CHINESE, ENGLISH), strict=True):
            conn.execute(
                text("UPDATE members SET display_name = :n WHERE id = :m"), {"n": name, "m": member}
            )
            conn.execute(
                text("UPDATE moderation_decisions SET member_id = :m WHERE id = :d"),
                {"m": member, "d": decision},
            )
        conn.execute(text("UPDATE groups SET title = :t WHERE id = 1"), {"t": ENGLISH})
        conn.execute(text("UPDATE groups SET title = :t WHERE id = 2"), {"t": CHINESE})
    db.dispose()
    return f"sqlite:///{path}"


def printed(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, *args: str, lang: str) -> str:
    """What a listing prints on a console 80 cells wide (not COLUMNS: the console itself)."""
    from groupops import cli_output

    buffer = io.StringIO()
    with monkeypatch.context() as patched:
        patched.setattr(cli_output, "out", Console(file=buffer, width=80))
        res = run(cli, *args, lang=lang, COLUMNS="200")
        assert res.exit_code == 0, res.output
    output = buffer.getvalue()
    assert max(cell_len(line) for line in output.splitlines()) <= 80, output
    return output


def cells(
    output: str, heading_en: str, heading_zh: str, first: tuple[str, ...] = ("id", "编号")
) -> list[str]:
    """Each row's cell under a heading, its lines put together (a row starts on the line
    where its ``first`` column, one line in every row, is filled)."""
    lines = output.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    rule = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    split = [
        [c.strip() for c in line.strip("│┃").split("│" if "│" in line else "┃")]
        for line in lines[top + 1 : end]
    ]
    head = split[: rule - top - 1]
    body = split[rule - top :]
    names = [" ".join(h[i] for h in head).strip() for i in range(len(head[0]))]
    column = next(i for i, n in enumerate(names) if n in (heading_en, heading_zh))
    start = next(i for i, n in enumerate(names) if n in first)
    rows: list[str] = []
    for line in body:
        if line[start]:
            rows.append(line[column])
        else:
            rows[-1] += " " + line[column]
    return [" ".join(r.split()) for r in rows]


def whole(name: str, shown: list[str]) -> bool:
    """``name`` is one row's cell, whole (wrapped lines joined; no "…")."""
    squeezed = name.replace(" ", "")
    return any(cell.replace(" ", "") == squeezed and "…" not in cell for cell in shown)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_names_and_titles_are_whole_at_80_columns(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, named: str, lang: str
) -> None:
    url = ("--database-url", named)
    members = printed(cli, monkeypatch, "members", "--limit", "1000", *url, lang=lang)
    names = cells(members, "name", "名字")
    assert whole(CHINESE, names) and whole(ENGLISH, names), members
    statuses = cells(members, "status", "状态")
    assert all("…" not in s for s in statuses) and (
        "in the group" in statuses or "在群" in statuses
    )
    one = printed(cli, monkeypatch, "members", "-g", "1", "--limit", "1000", *url, lang=lang)
    names = cells(one, "name", "名字")
    assert whole(CHINESE, names) or whole(ENGLISH, names), one
    assert all("…" not in n for n in names), one
    groups = printed(cli, monkeypatch, "groups", *url, lang=lang)
    titles = cells(groups, "title", "名称")
    assert whole(CHINESE, titles) and whole(ENGLISH, titles), groups
    heads = groups.splitlines()[1:4]
    assert not any("…" in line for line in heads), groups  # no heading is cut
    assert "Asia/Shanghai" in groups  # the zone, said once under the table
    log = printed(cli, monkeypatch, "moderation", "log", *url, lang=lang)
    who = cells(log, "member", "成员")
    assert whole(CHINESE, who) and whole(ENGLISH, who), log
    assert all("…" not in w for w in who)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_import_table_keeps_short_file_names_on_one_line(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str
) -> None:
    from tests.cli import RUNNERS

    names = ["DM_2A_7M.txt", "wechat_group.txt", "a_much_longer_export_of_the_runners_club.txt"]
    for name in names:
        (tmp_path / name).write_text(RUNNERS, encoding="utf-8")
    url = f"sqlite:///{tmp_path}/db.sqlite"
    files = [str(tmp_path / n) for n in names]
    output = printed(cli, monkeypatch, "import", *files, "--database-url", url, lang=lang)
    shown = cells(output, "file", "文件", first=("chats", "群聊数"))
    assert shown[:2] == names[:2], output  # whole, each on one line
    assert whole(names[2], shown), output  # a long one folds, every character kept
