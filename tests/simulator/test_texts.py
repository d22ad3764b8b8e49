"""What the simulated people say: varied, in both languages; ordinary talk never looks like an ad
to the moderation detectors, and every ad does; a person solves the gate's sum in either
language."""

from __future__ import annotations

import random

from groupops.features.moderation.detectors import (
    Text,
    detect_contacts,
    detect_invites,
    detect_links,
    detect_phones,
)
from groupops.simulator import texts
from groupops.simulator.people import make_people

CHATS = ("course", "brand", "creators")


def flagged(line: str) -> bool:
    t = Text.of(line)
    return bool(
        detect_invites(t, []) or detect_links(t, []) or detect_phones(t) or detect_contacts(t)
    )


def test_ordinary_talk_passes_moderation_and_rarely_repeats() -> None:
    rng = random.Random(7)
    lines: list[str] = []
    for _ in range(400):
        for chat in CHATS:
            for lang in ("zh", "en"):
                lines += [
                    texts.chat_line(rng, chat, lang),
                    texts.question(rng, chat, lang),
                    texts.answer(rng, chat, lang),
                    texts.checkin(rng, chat, lang),
                    texts.intro(rng, lang, "王晓明" if lang == "zh" else "Emily Carter"),
                    texts.owner_post(rng, chat),
                ]
    bad = [line for line in lines if flagged(line)]
    assert not bad, bad[:5]
    talk = [
        texts.chat_line(rng, c, lang) for c in CHATS for lang in ("zh", "en") for _ in range(200)
    ]
    assert len(set(talk)) > 0.6 * len(talk)  # templates with slots: few exact repeats
    assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(talk))  # Chinese
    assert any(line.isascii() for line in talk)  # and English


def test_every_ad_and_shared_link_is_caught() -> None:
    rng = random.Random(3)
    for _ in range(300):
        for lang in ("zh", "en"):
            assert flagged(texts.ad(rng, lang))
            assert flagged(texts.innocent_link(rng, lang))


def test_people_can_solve_the_gate_sum_in_both_languages() -> None:
    assert texts.solve_captcha("👋 Ann, welcome! …\nHow much is 3 + 5?") == "8"
    assert texts.solve_captcha("👋 王伟，欢迎！请在 10 分钟内回答：\n7 + 9 等于几？") == "16"
    assert texts.solve_captcha("no sum here") is None


def test_the_cast_is_about_right_and_names_are_unique() -> None:
    people = make_people(random.Random(1), 300, list(CHATS), 30.0)
    names = [p.name for p in people]
    assert len(set(names)) == len(names) == 300
    kinds = {
        k: sum(1 for p in people if p.kind == k) for k in ("regular", "lurker", "spammer", "bot")
    }
    assert kinds["regular"] > 150 and kinds["spammer"] > 3 and kinds["bot"] > 3
    zh = sum(1 for p in people if p.lang == "zh")
    assert 120 < zh < 260  # Chinese and English speakers
    assert make_people(random.Random(1), 300, list(CHATS), 30.0)[17].name == names[17]
