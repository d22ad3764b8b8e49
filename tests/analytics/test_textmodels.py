"""Text models: the numpy n-gram hashing, the shipped models, keywords without noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from groupops.analytics import keywords as kw
from groupops.analytics import textmodels as tm
from tests.conftest import SHARED_DATA as DATA


def test_hashed_ngrams_are_unit_length_and_stable() -> None:
    r, b, v = tm.hashed_ngrams(["abc", "", "abc", "中文"])
    norms = np.bincount(r, weights=v * v, minlength=4)
    assert norms[0] == pytest.approx(1.0) and norms[3] == pytest.approx(1.0)
    # " abc " has 5 unigrams (two spaces alike), 4 bigrams, 3 trigrams
    assert (r == 0).sum() == 4 + 4 + 3
    assert list(b[r == 0]) == list(b[r == 2])  # same text, same buckets
    assert (r == 1).sum() > 0  # the empty text still has its padding


@pytest.mark.parametrize(
    ("text", "spam"),
    [
        ("加微信 vx8888 日赚千元，免费领取，点击链接", True),
        ("WINNER!! You have won a £1000 prize. Call 09061701461 to claim now", True),
        ("Заработок от 5000 в день, пиши в личку, без вложений", True),
        ("今天的作业大家记得按时交", False),
        ("Does anyone know how to reset the router?", False),
        ("Привет, как дела? Завтра встречаемся в шесть", False),
        # a developers' chat: links to where the answer is, pasted logs (the Slack sample)
        (
            "This answer seems to echo the same sentiment about the class of problems SA is"
            " useful for: http://stackoverflow.com/a/8675459/1798683",
            False,
        ),
        (
            "```I0327 01:24:01.690094  1558 exec.cpp:134] Version: 0.27.0\n"
            "I0327 01:24:01.693549  1564 exec.cpp:208] Executor registered```",
            False,
        ),
        ("Free crypto airdrop, claim now before it ends https://k2hx9mqa.xyz/claim?id=41", True),
        ("进群领红包，日赚三百 t.me/+a8KxQ2mZ", True),
    ],
)
def test_spam_model_on_obvious_cases(text: str, spam: bool) -> None:
    model = tm.load_spam()
    assert model is not None
    assert bool(model.predict([text])[0]) is spam


def test_classifiers_read_a_link_as_its_site_and_skip_code_blocks() -> None:
    assert tm.plain("see https://gitee.com/a/b/commit/0f3e9a?x=1 now") == "see  http gitee.com  now"
    assert tm.plain("WWW.Example.COM/path") == " http example.com "
    assert tm.plain("look:\n```x = 1\ny = 2```\nthanks") == "look:\n \nthanks"
    assert tm.plain("```never closed\nlog line") == " "
    # the same n-grams whatever the path: a link's hash or id says nothing
    a = tm.hashed_ngrams(["https://example.com/q/1"])
    b = tm.hashed_ngrams(["https://example.com/q/2/other"])
    assert list(a[1]) == list(b[1])


def test_sentiment_scores_chinese_and_english() -> None:
    s = tm.sentiment_scores(
        [
            "质量很好，非常满意",
            "太差了，再也不买了",
            "this is great, thanks",
            "awful, broken again",
            "the meeting is at 5",
        ],
        tm.load_sentiment(),
    )
    assert s[0] > 0.2 and s[1] < -0.2 and s[2] > 0 and s[3] < 0 and s[4] == 0


def test_keywords_segment_chinese_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    top = kw.keywords(["我们的课程很好", "课程安排在周三", "python course python"])
    words = {w["word"]: w["count"] for w in top}
    assert words["课程"] == 2 and words["python"] == 2
    assert "的" not in words
    assert capsys.readouterr().out == ""


def test_models_are_small() -> None:
    assert tm.SPAM_MODEL.stat().st_size < 2_000_000
    assert tm.SENTIMENT_MODEL.stat().st_size < 2_000_000


_MIXED_ZH = [
    "我们的课程很好，老师讲得非常清楚",
    "课程安排在周三下午，T恤和AA制都在词典里",
    "这个abc中文混排的句子，python 3.12 也行",
    "质量很好，非常满意，下次还来买",
    "太差了，再也不买了，客服态度也不好",
    "请问周末有没有活动？大家好",
    "hello world, no Chinese here",
]


def _whole_dictionary_keywords(monkeypatch: pytest.MonkeyPatch, texts: list[str]) -> Any:
    original = kw._jieba_tokenizer
    with monkeypatch.context() as m:
        m.setattr(kw, "_jieba_tokenizer", lambda chars=None: original(None))
        return kw.keywords(texts)


@pytest.mark.slow  # jieba loads both dictionaries: about 6 s
def test_keywords_from_the_partial_dictionary_equal_the_whole_ones(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the entries starting with a character of the texts are loaded (from a copy of
    jieba's dictionary by first character): the same words and counts as jieba's whole one."""
    by_char = tmp_path / "by-char.bin"
    monkeypatch.setattr(kw, "_by_char_path", lambda tk, cache: by_char)
    texts = list(_MIXED_ZH)
    for name in ("zh_reviews_pos.txt", "zh_reviews_neg.txt"):
        path = DATA / "sentiment" / name
        if path.exists():
            texts += path.read_text(encoding="utf-8").splitlines()[:400]
    want = _whole_dictionary_keywords(monkeypatch, texts)
    assert kw.keywords(texts) == want  # builds the copy
    assert by_char.exists()
    assert kw.keywords(texts) == want  # reads it
    tk = kw._jieba_tokenizer(set("课程"))
    assert tk.initialized and 0 < len(tk.FREQ) < 50_000


def test_a_damaged_partial_dictionary_falls_back_to_the_whole_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    by_char = tmp_path / "by-char.bin"
    by_char.write_bytes(b"not a dictionary")
    monkeypatch.setattr(kw, "_by_char_path", lambda tk, cache: by_char)
    assert kw.keywords(_MIXED_ZH) == _whole_dictionary_keywords(monkeypatch, _MIXED_ZH)
    assert not by_char.exists()  # removed: rebuilt on the next use


# ---- QA findings: placeholders, links and addresses, neutral Chinese chat, keywords --------


def test_placeholders_and_media_are_no_text_for_the_text_models() -> None:
    """WhatsApp's "<Media omitted>", "image omitted", deleted messages and calls, Discord's
    attachment posts: no words of a member; only typed text (and typed links) is read."""
    from groupops.analytics import analyze
    from groupops.domain.events import ContentKind
    from tests.analytics.helpers import T0, days, msg

    events = []
    for d in range(6):
        events += [
            msg("ann", T0 + days(d), "<Media omitted>", content=ContentKind.OTHER),
            msg("bob", T0 + days(d), "\u200eimage omitted", content=ContentKind.PICTURE),
            msg("cat", T0 + days(d), "This message was deleted", content=ContentKind.OTHER),
            msg("ann", T0 + days(d), "This message has attachments.", content=ContentKind.STICKER),
            msg("bob", T0 + days(d), "This message was deleted"),  # came in as text
            msg("cat", T0 + days(d), f"the river trail run starts at {d} pm"),
            msg(
                "ann",
                T0 + days(d),
                "route map https://example.org/map",
                content=ContentKind.H5_LINK,
            ),
        ]
    r = analyze(events)
    words = {w["word"] for w in r["keywords"]["top"]}
    assert words and not words & {"media", "omitted", "image", "deleted", "message", "attachments"}
    assert {"river", "route"} <= words
    assert r["spam"]["text_messages"] == 12  # the typed texts and links, nothing else
    assert r["meta"]["text_sample"] == 12


@pytest.mark.parametrize(
    "text",
    [
        "see https://stackoverflow.com/q/1",
        "https://stackoverflow.com/questions/4092774/genetic-algorithm-versus-simulated-annealing",
        "https://en.wikipedia.org/wiki/Simulated_annealing",
        "@老李 在小程序里提交",
        "@老李\u2005明天的作业在小程序里提交",
    ],
)
def test_reference_links_and_addressed_replies_are_no_ads(text: str) -> None:
    model = tm.load_spam()
    assert model is not None
    assert not model.predict([text])[0]


def test_a_handle_inside_the_text_is_still_read() -> None:
    assert tm.plain("@老李 在小程序里提交") == "在小程序里提交"
    assert tm.plain("联系人：@dyqan123") == "联系人：@dyqan123"  # a contact handle: kept
    assert tm.plain("see https://stackoverflow.com/q/1 ok") == "see   ok"
    assert (
        tm.plain("see https://stackoverflow.com.evil.xyz/q")
        == "see  http stackoverflow.com.evil.xyz "
    )


def test_neutral_chinese_chat_questions_and_acknowledgements_are_not_negative() -> None:
    model = tm.load_sentiment()
    assert model is not None and model.neutral > 0
    neutral = ["今天的作业已发布", "收到", "明天见", "今晚八点直播", "好的"]
    questions = ["怎么提交作业？", "请问在哪里下载？", "几点开始?"]
    polar = ["太差了，完全没用，再也不买了", "老师讲得非常好，很满意，谢谢"]
    s, read = tm.sentiment_read(neutral + questions + polar, model)
    assert read.all()  # Chinese is always read: neutral ones count in the weekly shares
    assert list(s[: len(neutral)]) == [0.0] * len(neutral)
    assert (s[len(neutral) : -2] >= 0).all()
    assert s[-2] < -0.2 and s[-1] > 0.2


def test_a_week_of_questions_and_acknowledgements_is_no_negative_spike() -> None:
    from groupops.analytics import analyze
    from tests.analytics.helpers import T0, days, msg

    chat = ["今天的作业已发布", "收到", "明天见", "今晚八点直播", "课件发群里了", "好的"]
    asks = ["怎么提交作业？", "在哪里交作业？", "收到", "好的", "作业要交几页？", "收到"]
    events = [
        msg(f"u{k % 3}", T0 + days(7 * w + k % 5), text)
        for w in range(4)
        for k, text in enumerate(asks if w == 3 else chat)
    ]
    sent = analyze(events)["sentiment"]
    assert all(week["negative"] == 0.0 for week in sent["over_time"]), sent["over_time"]
    assert sent["spikes"] == []


def test_keywords_leave_out_mentions_names_and_dictionary_fragments() -> None:
    texts = [
        "@老李 在小程序里提交",
        "@赵六 这篇文章不错",
        "百度网盘 提取码 1234",
        "老李 说这篇文章要看",
        "Ann thinks the route is long",
        "@bob the route again",
    ]
    words = {w["word"] for w in kw.keywords(texts, names=["老李", "赵六", "Ann Lee", "bob"])}
    assert not words & {"老李", "赵六", "ann", "bob", "百度网", "篇文章"}
    assert {"文章", "网盘", "route"} <= words


def test_placeholders_among_texts_agrees_with_placeholder_one_by_one() -> None:
    """text_rows tells placeholders from text in C-level passes over all the texts: the same
    answer as :func:`placeholder` on each, marks, case, dots, spaces and lengths included."""
    from groupops.analytics.text_metrics import _placeholders, _placeholders_among, placeholder

    known = sorted(_placeholders())
    texts = [*known, *(f" \u200e{t.upper()} . " for t in known), *(f"{t}!" for t in known)]
    texts += ["", " ", "x" * 81, "\u200e\u200e<Media omitted>\u200e", "hello", "İmage omitted"]
    texts += ["image omitted" + " " * 70, "image omitted" + " " * 67 + ".", "ß" * 40]
    got = _placeholders_among(texts).tolist()
    assert got == [placeholder(t) for t in texts]
    assert any(got) and not all(got)
