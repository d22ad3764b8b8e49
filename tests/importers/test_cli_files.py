"""``import`` and ``analyze`` facing files that are missing, cannot be read, or have long names:
one refusal line per file in the command's language, naming the file once; the other files
still imported; the summary table never cuts a file name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from tests.cli import RUNNERS, error_line, run


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    path = tmp_path / "chat.txt"
    path.write_text(RUNNERS, encoding="utf-8")
    return path


Deny = Callable[..., None]


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Deny:
    """Make paths unreadable as ``chmod 000`` does for a user without the right to override
    it (the tests run as root, for whom chmod changes nothing): opening them raises
    PermissionError and ``os.access`` says no."""
    denied: set[Path] = set()
    real_open = Path.open
    real_access = os.access

    def fake_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.absolute() in denied:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    def fake_access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if Path(path).absolute() in denied:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    monkeypatch.setattr(os, "access", fake_access)

    def add(*paths: Path) -> None:
        denied.update(p.absolute() for p in paths)

    return add


# -- a file that cannot be read ----------------------------------------------------------------


def test_import_refuses_an_unreadable_file_and_imports_the_others(
    cli: typer.Typer, chat: Path, tmp_path: Path, deny: Deny
) -> None:
    locked = tmp_path / "noperm.txt"
    locked.write_text(RUNNERS, encoding="utf-8")
    deny(locked)
    url = f"sqlite:///{tmp_path}/db.sqlite"
    res = run(cli, "import", str(chat), str(locked), "--database-url", url)
    assert res.exit_code == 2, res.output
    assert "Usage" not in res.output
    assert res.stderr.splitlines() == [
        f"✗ {locked}: not imported (unreadable): cannot read the file (permission denied)"
    ]
    assert "1 file: 2 new events stored" in res.stdout  # chat.txt all the same
    zh = run(cli, "import", str(locked), "--no-store", "--lang", "zh_CN")
    assert zh.stderr.splitlines()[0] == (
        f"✗ {locked}：未导入（unreadable）：无法读取文件（没有读取权限）"
    )


def test_analyze_refuses_an_unreadable_file_in_one_line(
    cli: typer.Typer, chat: Path, tmp_path: Path, deny: Deny
) -> None:
    locked = tmp_path / "noperm.txt"
    locked.write_text(RUNNERS, encoding="utf-8")
    deny(locked)
    out = tmp_path / "report"
    res = run(cli, "analyze", str(chat), str(locked), "--out", str(out))
    assert error_line(res) == (
        f"✗ {locked}: not analysed (unreadable): cannot read the file (permission denied)"
    )
    assert not out.exists()
    zh = run(cli, "analyze", str(locked), "--out", str(out), lang="zh_CN")
    assert error_line(zh) == f"✗ {locked}：未能分析（unreadable）：无法读取文件（没有读取权限）"


def test_an_unreadable_day_of_a_slack_folder_is_said_so(
    cli: typer.Typer, tmp_path: Path, deny: Deny
) -> None:
    folder = tmp_path / "slackdir"
    (folder / "general").mkdir(parents=True)
    (folder / "channels.json").write_text('[{"id": "C1", "name": "general"}]', encoding="utf-8")
    (folder / "users.json").write_text("[]", encoding="utf-8")
    day = folder / "general" / "2016-01-15.json"
    day.write_text('[{"type": "message", "user": "U1", "text": "hi", "ts": "1.0"}]', "utf-8")
    deny(day)
    res = run(cli, "import", str(folder), "--no-store")
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [
        f"✗ {folder}: not imported (import_format): "
        "cannot read general/2016-01-15.json (permission denied)",
        "nothing imported",
    ]
    zh = run(cli, "analyze", str(folder), "--out", str(tmp_path / "r"), lang="zh_CN")
    assert error_line(zh) == (
        f"✗ {folder}：未能分析（import_format）：无法读取 general/2016-01-15.json（没有读取权限）"
    )


# -- a file that is not there ------------------------------------------------------------------


def test_a_missing_file_is_not_found_and_named_once(
    cli: typer.Typer, chat: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.txt"
    res = run(cli, "import", str(chat), str(missing), "--no-store")
    assert res.exit_code == 2, res.output
    assert res.stderr.splitlines() == [f"✗ {missing}: not imported (not_found): no such file"]
    assert "1 file read, 2 events" in res.stdout
    analysed = run(cli, "analyze", str(chat), str(missing), "--out", str(tmp_path / "r"))
    assert error_line(analysed) == f"✗ {missing}: not analysed (not_found): no such file"
    zh = run(cli, "analyze", str(missing), "--out", str(tmp_path / "r"), lang="zh_CN")
    assert error_line(zh) == f"✗ {missing}：未能分析（not_found）：没有这个文件"


def test_analyze_names_a_bad_file_once_with_its_line(cli: typer.Typer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(RUNNERS + "1/5/23, 25:61 - Ann: bad clock\n", encoding="utf-8")
    res = run(cli, "analyze", str(bad), "--out", str(tmp_path / "r"))
    assert error_line(res) == (
        f"✗ {bad}: not analysed (import_format): line 4: impossible time '25:61'"
    )


# -- the summary table -------------------------------------------------------------------------


def file_column(table: str) -> list[str]:
    """The file names of a rich table's rows, a name folded onto several lines put together."""
    names: list[str] = []
    for line in table.splitlines():
        cells = line.split("│")[1:-1]
        if len(cells) < 2 or cells[0].strip() in ("file", ""):
            continue
        if cells[1].strip():  # a row's first line: its format is filled in
            names.append(cells[0].strip())
        else:
            names[-1] += cells[0].strip()
    return names


def test_the_summary_never_cuts_a_file_name(cli: typer.Typer, tmp_path: Path) -> None:
    names = [
        "WhatsApp_Chat_with_Runners_Club_2023_first_half.txt",
        "WhatsApp_Chat_with_Runners_Club_2023_second_half.txt",
    ]
    paths = []
    for i, name in enumerate(names):
        path = tmp_path / name
        path.write_text(RUNNERS.replace("hello", f"hello {i}"), encoding="utf-8")
        paths.append(str(path))
    res = run(cli, "import", *paths, "--no-store")  # 80 columns
    assert res.exit_code == 0, res.output
    assert "…" not in res.stdout
    assert file_column(res.stdout) == names
    assert max(len(line) for line in res.stdout.splitlines()) <= 80
    zh = run(cli, "import", *paths, "--no-store", lang="zh_CN")
    assert file_column(zh.stdout) == names


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        (
            "en",
            "error [invalid_option] --format: unknown format 'nope'; one of whatsapp, telegram,"
            " discord, slack, irc, wechat",
        ),
        (
            "zh_CN",
            "错误 [invalid_option] --format：未知格式 'nope'；可选：whatsapp, telegram, discord,"
            " slack, irc, wechat",
        ),
    ],
)
def test_an_unknown_format_is_refused_once_as_the_option(
    cli: typer.Typer, chat: Path, tmp_path: Path, lang: str, line: str
) -> None:
    """--format names no format: the option is wrong, not each file; said once, naming
    --format, before any file is read and with nothing written."""
    other = tmp_path / "other.txt"
    other.write_text(RUNNERS, encoding="utf-8")
    out = tmp_path / "events.jsonl"
    res = run(
        cli, "import", str(chat), str(other), "--format", "nope", "--no-store",
        "--events-out", str(out), "--lang", lang,
    )  # fmt: skip
    assert error_line(res) == line  # one line, exit code 2
    assert not out.exists()
