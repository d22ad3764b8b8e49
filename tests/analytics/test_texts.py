"""The analytics' sentences: English in metrics.json, read back and translated for the report."""

from __future__ import annotations

from groupops.analytics import texts as tx

ZH = {
    tx.E_MESSAGES: "消息 {before} → {after}",
    tx.E_MESSAGES_CHANGE: "消息 {before} → {after}（{change:.0f}%）",
    tx.W_HALVES: "活跃度每 {weeks:.1f} 周减半",
    tx.W_PROJECTED: "预计 8 周内每周不到 1 条消息",
    tx.L_SEPARATOR: "；",
}


def zh(message: str) -> str:
    return ZH.get(message, message)


def test_english_is_what_metrics_json_always_had() -> None:
    assert tx.E_MESSAGES.format(before=141, after=132) == "messages 141 -> 132"
    assert tx.E_MESSAGES_CHANGE.format(before=10, after=5, change=-50.0) == (
        "messages 10 -> 5 (-50%)"
    )
    assert tx.W_HALVES.format(weeks=2.345) == "activity halves every 2.3 weeks"


def test_sentences_are_read_back_and_translated() -> None:
    assert tx.translate("messages 141 -> 132", zh) == "消息 141 → 132"
    assert tx.translate("messages 10 -> 5 (-50%)", zh) == "消息 10 → 5（-50%）"
    reasons = tx.SEPARATOR.join([tx.W_HALVES.format(weeks=2.3), tx.W_PROJECTED])
    assert tx.translate(reasons, zh) == "活跃度每 2.3 周减半；预计 8 周内每周不到 1 条消息"


def test_unknown_sentences_and_english_pass_through() -> None:
    assert tx.translate("something else 3 -> 4", zh) == "something else 3 -> 4"
    assert tx.translate("messages 141 -> 132", lambda m: m) == "messages 141 -> 132"
