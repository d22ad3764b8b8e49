"""The reasons the gate and moderation store with their actions are defined once, in each
feature's reasons module: the feature stores with those msgids and the CLI reads stored reasons
back with the very same objects (groupops.stored_texts.action_reasons), so a rewording in the
feature cannot leave the CLI matching a copy of the old English (it then showed English)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

from groupops.features.gate import reasons as gate_reasons
from groupops.features.moderation import ops
from groupops.features.moderation import reasons as moderation_reasons
from groupops.i18n import Catalogs
from groupops.stored_texts import action_reasons, evidence_said, reason_said

FEATURES = Path(__file__).parents[2] / "src" / "groupops" / "features"
ZH = Catalogs().gettext("zh_CN")


def _constants(module: ModuleType) -> list[object]:
    return [v for k, v in vars(module).items() if k.isupper() and isinstance(v, str)]


def test_every_reason_the_cli_reads_is_the_object_a_feature_stores_with() -> None:
    read = action_reasons()
    defined = [*gate_reasons.REASONS, *moderation_reasons.REASONS]
    assert len(read) == len(defined)
    assert all(a is b for a, b in zip(read, defined, strict=True))
    for module in (gate_reasons, moderation_reasons):
        constants = _constants(module)
        # each one the feature can name, and none it stores left out of what the CLI reads
        assert all(any(r is c for c in constants) for r in module.REASONS), module.__name__
        assert all(any(c is r for r in module.REASONS) for c in constants), module.__name__


def _literal_reasons(path: Path) -> list[str]:
    """Where ``path`` stores a reason it words itself: a string or f-string given as an
    action's ``reason=``, or as the reason of the gate's ``_admit`` / ``_fail``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        given = [k.value for k in node.keywords if k.arg == "reason"]
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("_admit", "_fail"):
            given += node.args
        found += [
            f"{path.name}:{v.lineno}"
            for v in given
            if isinstance(v, ast.JoinedStr)
            or (isinstance(v, ast.Constant) and isinstance(v.value, str))
        ]
    return found


@pytest.mark.parametrize("feature", ["gate", "moderation"])
def test_the_features_store_only_the_reasons_they_define(feature: str) -> None:
    files = sorted((FEATURES / feature).glob("*.py"))
    assert any(f.name == "reasons.py" for f in files)
    worded = [w for f in files if f.name != "reasons.py" for w in _literal_reasons(f)]
    assert worded == [], worded


def test_the_checker_finds_a_reason_worded_in_place(tmp_path: Path) -> None:
    code = tmp_path / "feature.py"
    code.write_text(
        'Action(k, s, c, reason="gate: raid")\n'
        'Action(k, s, c, reason=f"{why} (failed gates: {n})")\n'
        'self._fail(ctx, group, challenge, s, now, "gate: no answer in time")\n'
        "Action(k, s, c, reason=reasons.RAID)\n",
        encoding="utf-8",
    )
    assert _literal_reasons(code) == ["feature.py:1", "feature.py:2", "feature.py:3"]


def test_a_reason_made_from_the_definitions_is_said_in_chinese() -> None:
    """What the features make from their definitions (as ladder.py and gate do) is read back:
    the stored English as it is, the Chinese from the same msgids."""
    evidence = ops.EVIDENCE["flood"].format(count=6, seconds=10)
    finding = moderation_reasons.FINDING.format(rule="flood", evidence=evidence)
    assert reason_said(finding) == "moderation: flood (6 messages in 10 s)"
    assert reason_said(finding, ZH) == "群管：刷屏（10 秒内发了 6 条消息）"
    failed = gate_reasons.FAILED_GATES.format(reason=gate_reasons.NO_ANSWER, count=2)
    assert reason_said(failed, ZH) == "进群验证：未在时限内回答（累计 2 次未通过进群验证）"
    assert evidence_said(evidence, ZH) == "10 秒内发了 6 条消息"
