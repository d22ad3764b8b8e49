"""``groupops analyze`` says what the importers tell about the reading, as ``import`` does: a
WeChat CSV saved by Excel on Chinese Windows (GBK) is read as GB18030 and said so, in the
operator's language; a UTF-8 file gets no such line."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from tests.cli import run

HEADER = (
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,"
    "NickName,Sender"
)
ROWS = [
    "1,123@chatroom,1,0,0,1709255100,2,大家好,2024-03-01 09:05:00,张三,张三,wxid_a",
    "2,123@chatroom,1,0,1,1709255160,2,欢迎,2024-03-01 09:06:00,我,我,wxid_me",
    "3,123@chatroom,1,0,0,1709255300,2,谢谢,2024-03-01 09:08:20,老李,李四,wxid_b",
]
CSV = HEADER + "\r\n" + "\r\n".join(ROWS) + "\r\n"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "ℹ 群.csv: not UTF-8; read as GB18030 (GBK)"),
        ("zh_CN", "ℹ 群.csv：不是 UTF-8 编码，已按 GB18030（GBK）读取"),
    ],
)
def test_analyze_says_a_gbk_csv_was_read_as_gb18030(
    cli: typer.Typer, tmp_path: Path, lang: str, said: str
) -> None:
    path = tmp_path / "群.csv"
    path.write_bytes(CSV.encode("gb18030"))
    res = run(cli, "analyze", str(path), "--out", str(tmp_path / "r"), "--lang", lang)
    assert res.exit_code == 0, res.output
    assert said in res.stdout.splitlines(), res.stdout
    assert (tmp_path / "r" / "report.html").is_file()


def test_analyze_of_a_utf8_csv_says_nothing_about_encodings(
    cli: typer.Typer, tmp_path: Path
) -> None:
    path = tmp_path / "群.csv"
    path.write_bytes(CSV.encode())
    res = run(cli, "analyze", str(path), "--out", str(tmp_path / "r"), "--lang", "en")
    assert res.exit_code == 0, res.output
    assert "GB18030" not in res.stdout and "ℹ" not in res.stdout, res.stdout
