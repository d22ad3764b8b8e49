"""features.kept: rows kept across batches only once their batch commits."""

from __future__ import annotations

from groupops.features.kept import Kept


def rows(group: int, n: int) -> list[tuple[tuple[int, int], str]]:
    return [((group, m), f"g{group}m{m}") for m in range(n)]


def test_staged_rows_are_kept_only_when_the_batch_commits() -> None:
    kept: Kept[tuple[int, int], str] = Kept()
    kept.stage((1, 1), "a")
    assert kept.get((1, 1)) == "a"  # the running batch sees its own
    kept.rolled_back()
    assert kept.get((1, 1)) is None
    kept.stage((1, 1), "b")
    kept.committed()
    kept.stage((1, 1), "c")
    kept.rolled_back()
    assert kept.get((1, 1)) == "b"


def test_a_group_read_whole_is_complete_once_committed() -> None:
    kept: Kept[tuple[int, int], str] = Kept()
    asked: list[int] = []

    def read(n: int) -> list[tuple[tuple[int, int], str]]:
        asked.append(n)
        return rows(7, 3)

    kept.load_group(7, read)
    assert kept.complete(7) and kept.get((7, 2)) == "g7m2"
    kept.rolled_back()  # read inside a batch that did not commit: forgotten with it
    assert not kept.complete(7) and kept.get((7, 2)) is None
    kept.load_group(7, read)
    kept.committed()
    kept.load_group(7, read)  # held: not read again
    assert asked == [200_001, 200_001]
    assert kept.complete(7) and kept.get((7, 9)) is None  # complete: no row for member 9


def test_what_does_not_fit_is_read_row_by_row() -> None:
    kept: Kept[tuple[int, int], str] = Kept(limit=2)
    kept.load_group(1, lambda n: rows(1, 5)[:n])
    assert not kept.complete(1) and kept.get((1, 0)) is None
    kept.load_group(1, lambda n: rows(1, 5)[:n])  # known too big: not read again
    kept.stage((1, 0), "x")
    kept.stage((1, 1), "y")
    kept.stage((1, 2), "z")
    kept.committed()  # past the limit: memory starts again from this batch's rows
    assert kept.get((1, 2)) == "z"


def test_forgotten_rows_go() -> None:
    kept: Kept[tuple[int, int], str] = Kept()
    kept.stage((1, 5), "a")
    kept.stage((2, 5), "b")
    kept.stage((2, 6), "c")
    kept.committed()
    kept.forget(lambda key: key[1] == 5)
    assert (kept.get((1, 5)), kept.get((2, 5)), kept.get((2, 6))) == (None, None, "c")


def test_a_remembered_row_is_a_copy_made_as_dataclasses_replace_makes_it() -> None:
    from dataclasses import asdict, dataclass, field, replace

    from groupops.features.kept import _copy
    from groupops.features.points.ledger import Balance

    @dataclass
    class Row:
        group_id: int
        member_id: int
        tags: list[str] = field(default_factory=list)
        seen: int = field(default=0, init=False)  # not an init field: made anew, as replace

        def __post_init__(self) -> None:
            self.seen += 1

    for row in (Balance(1, 2, 30, 1, None, None, 4, new=True, touched=True), Row(1, 2, ["a"])):
        copy, expected = _copy(row), replace(row)
        assert copy is not row and type(copy) is type(row)
        assert asdict(copy) == asdict(expected)
    row = Row(1, 2)
    row.seen = 5
    assert _copy(row).seen == replace(row).seen == 1
    balance = Balance(1, 2, 30, 1, None, None, 4, new=True, touched=True, dirty=True)
    assert balance.kept() == replace(balance, touched=False, dirty=False)


def test_what_a_handle_call_notes_is_kept_only_once_the_call_ends_and_the_batch_commits() -> None:
    kept: Kept[tuple[int, int], int] = Kept()
    kept.begin_call()
    kept.note((1, 1), 10)
    assert kept.get((1, 1)) == 10  # the call reads its own note at once
    kept.begin_call()  # the call raised: the engine runs its events again one by one
    assert kept.get((1, 1)) is None
    kept.note((1, 1), 11)
    kept.end_call()
    kept.rolled_back()  # the batch did not commit
    assert kept.get((1, 1)) is None
    kept.begin_call()
    kept.note((1, 1), 12)
    kept.note((1, 2), 13)
    kept.end_call()
    kept.committed()
    assert (kept.get((1, 1)), kept.get((1, 2))) == (12, 13)
    kept.begin_call()
    kept.note((1, 2), 14)
    kept.forget(lambda key: key[1] == 2)  # a member forgotten meanwhile
    assert kept.get((1, 2)) is None
    assert kept.get((1, 1)) == 12
