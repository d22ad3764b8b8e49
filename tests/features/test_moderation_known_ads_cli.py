"""The library of known ads (已知广告库) for an operator: ``groupops moderation known-ads`` lists
what it holds (a fingerprint, with the decision and member that added it), ``groupops moderation
forget-ad ID`` takes one text out, and forgetting a member (``groupops forget``) drops the texts
their decisions added. Driven through the real command line on the community's database, on
SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer
from rich.console import Console
from sqlalchemy import insert, select, update

from groupops import cli_output
from groupops.engine.app import App
from groupops.features.moderation import blacklist_entries
from groupops.features.moderation.detectors import Text, fingerprint
from groupops.features.moderation.tables import moderation_decisions, moderation_known_ads
from groupops.storage.tables import members, workspaces
from tests.cli import error_line, run
from tests.features.test_moderation import Community, new_community
from tests.features.test_moderation_known_ads import AD, AD_AGAIN, kicked_for_ad, library

#: the command line reads the library at the real time: the community's clock starts near it
START = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
AD_ID = fingerprint(Text.of(AD))[:12]


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    yield new_community(lambda **kw: make_app(start=START, **kw))


@pytest.fixture
def url(database_url: str) -> tuple[str, str]:
    return ("--database-url", database_url)


def listed(cli: typer.Typer, url: tuple[str, str], *more: str) -> list[dict[str, Any]]:
    res = run(cli, "moderation", "known-ads", "--json", *url, *more)
    assert res.exit_code == 0, res.output
    rows: list[dict[str, Any]] = json.loads(res.stdout)
    return rows


def table(cli: typer.Typer, url: tuple[str, str], lang: str = "en", width: int = 120) -> str:
    """The listing as a console 120 cells wide prints it (the console itself, not COLUMNS)."""
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(cli_output, "out", Console(file=buffer, width=width))
        res = run(cli, "moderation", "known-ads", *url, lang=lang)
        assert res.exit_code == 0, res.output
    return buffer.getvalue()


def member_id(c: Community, name: str) -> int:
    with c.app.db.connect() as conn:
        return int(
            conn.execute(select(members.c.id).where(members.c.display_name == name)).scalar_one()
        )


def test_known_ads_lists_the_text_a_blacklisting_kept(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    assert listed(cli, url) == []
    empty = run(cli, "moderation", "known-ads", *url)
    assert empty.stdout.strip() == "known ads: nothing to list", empty.stdout
    kick = kicked_for_ad(c)
    [ad] = listed(cli, url)
    assert ad["id"] == AD_ID and ad["fingerprint"] == fingerprint(Text.of(AD_AGAIN))
    assert (ad["workspace"], ad["decision_id"], ad["rule"], ad["step"]) == (
        "default",
        kick.id,
        "contact",
        "kick",
    )
    assert (ad["member"], ad["member_id"]) == ("Spam One", kick.member_id)
    assert ad["evidence"] == kick.evidence
    assert ad["created_at"] == kick.created_at.isoformat()
    assert ad["expires_at"] == (kick.created_at + timedelta(days=30)).isoformat()
    shown = table(cli, url)
    assert AD_ID in shown and f"#{kick.id} kick (contact)" in shown, shown
    assert "Spam One" in shown and "added (UTC)" in shown and "加我微信" in shown
    assert kick.created_at.strftime("%Y-%m-%d %H:%M") in shown
    # one workspace's: the community's, and an unknown one refused by name
    assert [a["id"] for a in listed(cli, url, "-w", "default")] == [AD_ID]
    line = error_line(run(cli, "moderation", "known-ads", "-w", "brandB", *url))
    assert line == "error [not_found] workspace: no workspace 'brandB'"


def test_forget_ad_takes_the_text_out_and_nothing_else(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    res = run(cli, "moderation", "forget-ad", AD_ID, *url)
    assert res.exit_code == 0, res.output
    record = c.decisions()[-1]
    assert (record.step, record.by) == ("forget_ad", "operator")
    assert (
        res.stdout.split()
        == (
            f"known ad {AD_ID} forgotten: the same text is no longer removed on sight."
            f" Decision #{kick.id} and the blacklist stay as they are (`groupops undo {kick.id}`"
            f" lifts them). Recorded in the moderation log as #{record.id}."
        ).split()
    )
    assert library(c) == [] and listed(cli, url) == []
    # nothing else changed: the kick stands, its author is still on the blacklist
    assert [(e["member"], e["decision_id"]) for e in blacklist_entries(c.app.db)] == [
        ("Spam One", kick.id)
    ]
    assert [d.undone_at for d in c.decisions() if d.id == kick.id] == [None]
    # a second account posting the same text is an ordinary first offence again: warned
    c.settle("g2", "spam2", "Spam Two")
    c.post("g2", "spam2", AD_AGAIN)
    c.deliver()
    last = c.decisions()[-1]
    assert (last.rule, last.step) == ("contact", "warn")
    assert c.member("g2", "spam2")["status"] == "active"
    again = error_line(run(cli, "moderation", "forget-ad", AD_ID, *url))
    assert again == f"error [not_found] known ads: no known ad {AD_ID}"


def test_forget_ad_refuses_an_id_it_does_not_know(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    other = "0" * 12 if not AD_ID.startswith("0") else "f" * 12
    line = error_line(run(cli, "moderation", "forget-ad", other, *url))
    assert line == f"error [not_found] known ads: no known ad {other}"
    for word in ("not-an-id", "-1", AD_ID + "z"):
        line = error_line(run(cli, "moderation", "forget-ad", word, *url))
        assert line == f"error [not_found] known ads: no known ad {word}", line
    line = error_line(run(cli, "moderation", "forget-ad", AD_ID[:4], *url))
    assert line == (
        f"error [invalid_option] known ads: '{AD_ID[:4]}' is too short for a known ad's id:"
        " give at least 8 characters"
    )
    line = error_line(run(cli, "moderation", "forget-ad", AD_ID, "-w", "brandB", *url))
    assert line == "error [not_found] workspace: no workspace 'brandB'"
    assert len(library(c)) == 1  # none of them took anything out
    # the whole fingerprint (as --json gives it) names it too, in any case
    full = fingerprint(Text.of(AD)).upper()
    assert run(cli, "moderation", "forget-ad", full, *url).exit_code == 0
    assert library(c) == []


def test_known_ads_and_forget_ad_in_chinese(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    shown = table(cli, url, "zh_CN")
    assert "已知广告库" in shown
    assert f"#{kick.id} 移出（私加好友）" in shown, shown
    for heading in ("编号", "加入（UTC）", "到期（UTC）", "处理", "成员", "文字"):
        assert heading in shown, heading
    said = run(cli, "moderation", "forget-ad", AD_ID, *url, "--lang", "zh_CN")
    assert said.exit_code == 0, said.output
    record = c.decisions()[-1].id
    assert "".join(said.stdout.split()) == (
        f"已从已知广告库移除{AD_ID}：同样的文字不会再被直接移除。"
        f"处理#{kick.id}和黑名单保持不变（`groupopsundo{kick.id}`可一并撤销）。"
        f"已记入管理记录，编号#{record}。"
    )
    line = error_line(run(cli, "moderation", "forget-ad", AD_ID, *url, lang="zh_CN"))
    assert line == f"错误 [not_found] 已知广告库：没有已知广告 {AD_ID}", line
    empty = run(cli, "moderation", "known-ads", *url, lang="zh_CN")
    assert empty.stdout.strip() == "已知广告库：暂无记录", empty.stdout


def test_forgetting_the_member_drops_the_texts_their_decisions_added(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    c.settle("g2", "spam2", "Spam Two")
    c.post("g2", "spam2", AD_AGAIN)  # known: kicked at once, the text still spam1's kick's
    assert c.decisions()[-1].rule == "known_ad"
    # the second account forgotten: the text stays (its decision only matched it)
    res = run(cli, "forget", str(member_id(c, "Spam Two")), "--yes", *url)
    assert res.exit_code == 0, res.output
    assert [a["id"] for a in listed(cli, url)] == [AD_ID]
    # the first forgotten: the text their kick added goes with their decisions
    spam1 = member_id(c, "Spam One")
    assert run(cli, "forget", str(spam1), "--yes", *url).exit_code == 0
    assert library(c) == [] and listed(cli, url) == []
    with c.app.db.connect() as conn:
        left = conn.execute(
            select(moderation_decisions.c.id).where(moderation_decisions.c.member_id == spam1)
        ).all()
    assert left == []


def test_a_text_known_in_two_workspaces_is_forgotten_in_the_one_named(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    with c.app.db.begin() as conn:  # another brand's library knows the same text
        other = conn.execute(
            insert(workspaces)
            .values(slug="brandB", name="brandB", settings={}, created_at=START)
            .returning(workspaces.c.id)
        ).scalar_one()
        conn.execute(
            insert(moderation_known_ads).values(
                workspace_id=other,
                fingerprint=fingerprint(Text.of(AD)),
                decision_id=None,
                created_at=kick.created_at,
                expires_at=kick.created_at + timedelta(days=30),
            )
        )
    assert sorted(a["workspace"] for a in listed(cli, url)) == ["brandB", "default"]
    [theirs] = listed(cli, url, "-w", "brandB")
    assert (theirs["id"], theirs["decision_id"], theirs["member"]) == (AD_ID, None, None)
    line = error_line(run(cli, "moderation", "forget-ad", AD_ID, *url))
    assert line == (
        f"error [conflict] known ads: known ad {AD_ID} is in 2 workspaces (default, brandB):"
        " name one"
    )
    assert len(library(c)) == 2
    res = run(cli, "moderation", "forget-ad", AD_ID, "-w", "brandB", *url)
    assert res.exit_code == 0, res.output
    record = c.decisions()[-1]
    assert (record.step, record.workspace_id, record.member_id) == ("forget_ad", other, None)
    assert (
        res.stdout.split()
        == (
            f"known ad {AD_ID} forgotten: the same text is no longer removed on sight."
            f" Recorded in the moderation log as #{record.id}."
        ).split()
    )
    assert [(a["workspace"], a["decision_id"]) for a in listed(cli, url)] == [("default", kick.id)]


def test_known_ads_show_the_start_of_the_text(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    [ad] = listed(cli, url)
    # the text's start (as compared: spaces one, case folded), not only the phrase the
    # contact rule found, which is all the decision's evidence says
    assert ad["sample"] == "加我微信 abc123 每天领红包福利多多"
    assert ad["evidence"] == kick.evidence and "红包" not in kick.evidence
    assert [k.sample for k in library(c)] == [ad["sample"]]
    shown = table(cli, url, width=200)
    assert "加我微信 abc123 每天领红包福利多多" in shown, shown
    assert "┃ text " in shown and "evidence" not in shown
    # the second account's message, matched, leaves the first's sample as it was
    c.settle("g2", "spam2", "Spam Two")
    c.post("g2", "spam2", AD_AGAIN)
    assert c.decisions()[-1].rule == "known_ad"
    assert [a["sample"] for a in listed(cli, url)] == ["加我微信 abc123 每天领红包福利多多"]


def test_a_long_text_is_kept_as_its_first_80_characters(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    long_ad = "加我微信 abc123\n" + "Free Gifts   every day, " * 8
    kicked_for_ad(c, text=long_ad)
    [ad] = listed(cli, url)
    start = "加我微信 abc123 " + "free gifts every day, " * 8
    assert ad["sample"] == start[:80] + "…" and len(ad["sample"]) == 81
    shown = table(cli, url, width=260)
    assert ad["sample"] in shown, shown


def test_a_text_kept_before_samples_shows_its_evidence(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    with c.app.db.begin() as conn:  # as revision 0019 leaves the rows kept before it
        conn.execute(update(moderation_known_ads).values(sample=None))
    [ad] = listed(cli, url)
    assert ad["sample"] is None and ad["evidence"] == kick.evidence
    shown = table(cli, url, width=200)
    assert f"│ {kick.evidence} " in shown and "红包" not in shown, shown


def test_forgetting_the_member_drops_the_sample_of_their_ad(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    assert [k.sample for k in library(c)] == ["加我微信 abc123 每天领红包福利多多"]
    spam1 = member_id(c, "Spam One")
    assert run(cli, "forget", str(spam1), "--yes", *url).exit_code == 0
    with c.app.db.connect() as conn:
        samples = conn.execute(select(moderation_known_ads.c.sample)).scalars().all()
    assert samples == [] and listed(cli, url) == []


def test_known_ads_text_in_chinese(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kicked_for_ad(c)
    shown = table(cli, url, "zh_CN", width=200)
    assert "┃ 文字 " in shown and "依据" not in shown, shown
    assert "加我微信 abc123 每天领红包福利多多" in shown, shown


def test_forget_ad_is_recorded_in_the_moderation_log(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    c.configure(ladder=["warn", "kick"])
    kick = kicked_for_ad(c)
    blank = error_line(run(cli, "moderation", "forget-ad", AD_ID, "--by", " ", *url))
    assert blank == ("error [invalid_option] --by: say who takes it out: a name, kept in the log")
    res = run(cli, "moderation", "forget-ad", AD_ID, "--by", "alice", *url)
    assert res.exit_code == 0, res.output
    log = run(cli, "moderation", "log", "--json", *url)
    record = json.loads(log.stdout)[0]
    assert record["id"] > kick.id
    assert f"Recorded in the moderation log as #{record['id']}." in " ".join(res.stdout.split())
    assert (record["rule"], record["step"], record["by"]) == ("forget_ad", "forget_ad", "alice")
    assert (record["member_id"], record["group_id"]) == (kick.member_id, kick.group_id)
    assert record["evidence"] == f"known ad {AD_ID}, added by #{kick.id}"
    assert record["actions"] == [] and record["undone_at"] is None
    for lang, words in (
        ("en", ("forget_ad", f"known ad {AD_ID}, added by #{kick.id}")),
        ("zh_CN", ("移出广告库", f"已知广告 {AD_ID}，由 #{kick.id} 加入")),
    ):
        buffer = io.StringIO()
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(cli_output, "out", Console(file=buffer, width=200))
            assert run(cli, "moderation", "log", *url, lang=lang).exit_code == 0
        for word in words:
            assert word in buffer.getvalue(), (word, buffer.getvalue())
    # the record is no decision to take back: the library kept no text to bring back
    line = error_line(run(cli, "undo", str(record["id"]), *url))
    assert line == (
        f"error [conflict] moderation undo: decision #{record['id']} records a known ad taken"
        " out of the library; it cannot be undone (the text is known again when someone is"
        " blacklisted for it)"
    )
    # nor a strike: the ladder passes over it (spam1 is kicked already; the record counts
    # for nothing, as the undo's does not)
    assert not [d for d in c.decisions() if d.step == "forget_ad" and d.counted]
    # the record is about the member whose text it was: forgetting them drops it too
    assert run(cli, "forget", str(kick.member_id), "--yes", *url).exit_code == 0
    assert [d for d in c.decisions() if d.step == "forget_ad"] == []


def test_forget_ad_of_a_text_no_decision_added_is_recorded_without_one(
    cli: typer.Typer, community: Community, url: tuple[str, str]
) -> None:
    c = community
    with c.app.db.begin() as conn:
        ws = conn.execute(select(workspaces.c.id).where(workspaces.c.slug == "default"))
        conn.execute(
            insert(moderation_known_ads).values(
                workspace_id=ws.scalar_one(),
                fingerprint=fingerprint(Text.of(AD)),
                decision_id=None,
                created_at=START,
                expires_at=START + timedelta(days=30),
            )
        )
    res = run(cli, "moderation", "forget-ad", AD_ID, *url)
    assert res.exit_code == 0, res.output
    [record] = c.decisions()
    assert (record.step, record.member_id, record.group_id, record.by) == (
        "forget_ad",
        None,
        None,
        "operator",
    )
    assert json.loads(record.evidence) == {"evidence": "forgot_ad_alone", "values": {"id": AD_ID}}
