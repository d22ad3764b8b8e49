"""``groupops analytics train`` (build the model files from the data) and
``groupops analytics accuracy`` (measure reply links, spam and sentiment on held-out data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from groupops.cli_options import LangOption, typed_errors
from groupops.domain.errors import NotFound
from groupops.i18n import N_, Catalogs

out = Console()

DEFAULT_DATA = Path("../shared/data")

T_MISSING = N_(
    "no data folder {path} (from {cwd}): pass --data with the path of the shared data folder"
)
T_LACKS = N_("the data folder {path} lacks {missing}")
T_WROTE = N_("models written to {path}")
T_REPLIES = N_(
    "reply links (irc-ubuntu dev, {files} files): precision {p:.3f} recall {r:.3f} "
    "F1 {f:.3f} over {links} labelled messages"
)
T_SPAM = N_("spam {lang} (held-out {n}): precision {p:.3f} recall {r:.3f} F1 {f:.3f}")
T_SPAM_CHAT = N_(
    "spam false alarms on ordinary chat (irc-ubuntu dev, {n} messages, none spam): {share:.1%}"
)
T_SENTIMENT = N_("sentiment zh (held-out {n}): accuracy {a:.3f}")


#: what ``measure`` reads in the data folder: the labelled IRC dev logs, the spam sets, the
#: sentiment reviews (their file names: :func:`textmodel_training.spam_data`, ``sentiment_data``)
MEASURE_NEEDS: tuple[str, ...] = (
    "irc-ubuntu/dev",
    "spam/sms_spam_collection.tsv",
    "spam/tg_spam_ru_spam.txt",
    "spam/tg_spam_ru_ham.txt",
    "spam/tg_spam_zh_train.csv",
    "sentiment/zh_reviews_pos.txt",
    "sentiment/zh_reviews_neg.txt",
)
#: what ``build_all`` reads besides: the labelled IRC training logs
TRAIN_NEEDS: tuple[str, ...] = ("irc-ubuntu/train", *MEASURE_NEEDS)
#: the model files ``measure`` loads (the shipped ones, or the ones ``train`` writes first)
MODEL_FILES: tuple[str, ...] = ("replies.json", "spam.npz", "sentiment.npz")


def _labelled_logs(folder: Path) -> bool:
    """``folder`` holds at least one ``*.raw.txt`` with its ``*.annotation.txt``."""
    return any(
        raw.with_name(raw.name.replace(".raw.txt", ".annotation.txt")).is_file()
        for raw in folder.glob("*.raw.txt")
    )


def missing_data(data: Path, needs: tuple[str, ...] = MEASURE_NEEDS) -> list[str]:
    """The entries of ``needs`` (paths inside ``data``) that are not there: an IRC folder
    without a labelled log (``*.raw.txt`` and its ``*.annotation.txt``) is missing too."""
    missing = []
    for rel in needs:
        path = data / rel
        if rel.startswith("irc-ubuntu/"):
            if not path.is_dir():
                missing.append(f"{rel}/")
            elif not _labelled_logs(path):
                missing.append(f"{rel}/*.raw.txt + *.annotation.txt")
        elif not path.is_file():
            missing.append(rel)
    return missing


def build_all(
    data: Path, out_dir: Path | None = None, *, reply_files: int | None = None
) -> dict[str, Any]:
    """Train the reply ranker (irc-ubuntu/train) and the spam and sentiment models from
    ``data`` (../shared/data) into ``out_dir`` (default: the package's ``models`` folder)."""
    from groupops.analytics import replies, reply_training, textmodel_training

    target = out_dir or replies.MODEL_DIR
    target.mkdir(parents=True, exist_ok=True)
    model = reply_training.train(data / "irc-ubuntu" / "train", max_files=reply_files)
    (target / "replies.json").write_text(json.dumps(model.to_json()) + "\n", encoding="utf-8")
    scores = textmodel_training.build_models(data, target)
    return {"replies": model.info, **scores}


def measure(data: Path, model_dir: Path | None = None) -> dict[str, Any]:
    """Accuracy of the models in ``model_dir`` (default: the shipped ones) on held-out data."""
    from groupops.analytics import replies, reply_training, textmodel_training, textmodels

    mdir = model_dir or replies.MODEL_DIR
    model = replies.load_model(mdir / "replies.json")
    rep = reply_training.evaluate(data / "irc-ubuntu" / "dev", model)
    spam_model = textmodels.TextModel.load(mdir / "spam.npz")
    spam = textmodel_training.evaluate_spam(data / "spam", spam_model)
    alarms = textmodel_training.false_alarms(data / "irc-ubuntu" / "dev", spam_model)
    senti = textmodel_training.evaluate_sentiment(
        data / "sentiment", textmodels.TextModel.load(mdir / "sentiment.npz")
    )
    return {
        "replies": rep.to_json(),
        "spam": spam,
        "spam_false_alarms": alarms,
        "sentiment": senti,
    }


def register(app: typer.Typer) -> None:
    group = typer.Typer(no_args_is_help=True, help="Analytics models and their accuracy.")
    app.add_typer(group, name="analytics")

    def check(data: Path, needs: tuple[str, ...], models: Path | None) -> None:
        """Refuse before any work when the data folder, or anything in it that the command
        reads, is not there (one line naming all that is missing)."""
        if not data.is_dir():
            raise NotFound(T_MISSING, where="--data", path=str(data), cwd=str(Path.cwd()))
        missing = missing_data(data, needs)
        if models is not None:
            missing += [str(models / f) for f in MODEL_FILES if not (models / f).is_file()]
        if missing:
            raise NotFound(T_LACKS, where="--data", path=str(data), missing=", ".join(missing))

    @group.command("train")
    @typed_errors
    def train_cmd(
        data: Path = typer.Option(DEFAULT_DATA, "--data", help="the shared data folder"),
        out_dir: Path | None = typer.Option(
            None, "--out", help="where to write the models (default: inside the package)"
        ),
        lang: str = LangOption(),
    ) -> None:
        """Build the reply ranker, spam and sentiment models from the data (offline)."""
        check(data, TRAIN_NEEDS, None)
        _ = Catalogs().gettext(lang)
        build_all(data, out_dir)
        out.print(_(T_WROTE).format(path=out_dir or "groupops/analytics/models"))
        _print(measure(data, out_dir), lang)

    @group.command("accuracy")
    @typed_errors
    def accuracy_cmd(
        data: Path = typer.Option(DEFAULT_DATA, "--data", help="the shared data folder"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
        lang: str = LangOption(),
    ) -> None:
        """Measure reply links (irc-ubuntu dev), spam F1 per language and sentiment accuracy
        on held-out splits."""
        from groupops.analytics import replies

        check(data, MEASURE_NEEDS, replies.MODEL_DIR)
        result = measure(data)
        if as_json:
            out.print_json(json.dumps(result))
        else:
            _print(result, lang)


def _print(result: dict[str, Any], lang: str) -> None:
    _ = Catalogs().gettext(lang)
    r = result["replies"]
    out.print(
        _(T_REPLIES).format(
            files=r["files"], p=r["precision"], r=r["recall"], f=r["f1"], links=r["links"]
        )
    )
    for code, s in result["spam"].items():
        out.print(
            _(T_SPAM).format(
                lang=code, n=s["test_size"], p=s["precision"], r=s["recall"], f=s["f1"]
            )
        )
    fa = result["spam_false_alarms"]
    out.print(_(T_SPAM_CHAT).format(n=fa["messages"], share=fa["flagged"]))
    s = result["sentiment"]
    out.print(_(T_SENTIMENT).format(n=s["test_size"], a=s["accuracy"]))
