"""Text models: the numpy n-gram hashing, the shipped models, keywords without noise."""

from __future__ import annotations

import numpy as np
import pytest

from groupops.analytics import textmodels as tm


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
    ],
)
def test_spam_model_on_obvious_cases(text: str, spam: bool) -> None:
    model = tm.load_spam()
    assert model is not None
    assert bool(model.predict([text])[0]) is spam


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
    top = tm.keywords(["我们的课程很好", "课程安排在周三", "python course python"])
    words = {w["word"]: w["count"] for w in top}
    assert words["课程"] == 2 and words["python"] == 2
    assert "的" not in words
    assert capsys.readouterr().out == ""


def test_models_are_small() -> None:
    assert tm.SPAM_MODEL.stat().st_size < 2_000_000
    assert tm.SENTIMENT_MODEL.stat().st_size < 2_000_000
