"""Reply inference: hand-built cases, the importers' hook, and measured accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from groupops.analytics import replies
from groupops.analytics.frame import from_events
from tests.analytics.helpers import T0, msg


def test_addressed_message_links_to_the_addressees_latest_message() -> None:
    from datetime import timedelta

    s = timedelta(seconds=20)
    events = [
        msg("alice", T0, "how do I mount a usb drive?"),
        msg("bob", T0 + s, "anyone tried the new kernel"),
        msg("carol", T0 + 2 * s, "lunch time"),
        msg("dave", T0 + 3 * s, "alice: use the files app, or sudo mount /dev/sdb1 /mnt"),
        msg("erin", T0 + 4 * s, "bob, yes it works fine for me"),
    ]
    frame = from_events(events)
    parents = replies.predict_parents(frame)
    assert parents[3] == 0  # dave answers alice
    assert parents[4] == 1  # erin answers bob
    assert parents[0] == 0  # the first message starts a conversation


def test_recorded_reply_wins_over_inference() -> None:
    from datetime import timedelta

    a = msg("alice", T0, "question one?", mid="1")
    b = msg("bob", T0 + timedelta(seconds=5), "other topic", mid="2")
    c = msg("carol", T0 + timedelta(seconds=9), "bob: sure", mid="3", reply_to="1")
    parents = replies.predict_parents(from_events([a, b, c]))
    assert parents[2] == 0


def test_infer_replies_on_importer_columns(shared_data: Path) -> None:
    from groupops.importers import read_columns

    path = sorted((shared_data / "irc-ubuntu" / "dev").glob("*.raw.txt"))[0]
    cols = read_columns(path)
    links = replies.infer_replies(cols)
    assert len(links) == len(cols)
    mids = set(cols.message_id)
    linked = [x for row in links for x in row]
    assert len(linked) > len(cols) * 0.3
    assert all(x in mids for x in linked)
    # links point backwards in the file
    pos = {m: i for i, m in enumerate(cols.message_id) if m}
    assert all(pos[x] < i for i, row in enumerate(links) for x in row)


def test_reply_accuracy_on_labelled_irc_dev(shared_data: Path) -> None:
    score = replies.evaluate(shared_data / "irc-ubuntu" / "dev")
    assert score.files >= 5 and score.links > 1000
    # measured; the corpus authors' heuristic baseline is 0.35 F1
    assert score.f1 > 0.6, score
    assert score.precision > 0.6 and score.recall > 0.55


def test_labels_are_read_as_child_to_parent(tmp_path: Path) -> None:
    ann = tmp_path / "x.annotation.txt"
    ann.write_text("1000 1000 -\n1000 1002 -\n1001 1003 -\n", encoding="utf-8")
    gold = replies.read_irc_labels(ann)
    assert gold == {1000: {1000}, 1002: {1000}, 1003: {1001}}


def test_model_file_is_small_and_matches_features() -> None:
    model = replies.load_model()
    assert replies.REPLY_MODEL.stat().st_size < 1_000_000
    h = model.hidden
    assert model.w_pair.shape == (replies.N_PAIR, h)
    assert model.w_self.shape == (replies.N_SELF, h)
    assert model.w_msg.shape == (replies.N_MSG, h)
    assert model.weights.shape == (replies.N_FEATURES * h + 2 * h,)
    assert np.all(np.isfinite(model.weights))
    assert model.info["held_out_messages"] > 1000
