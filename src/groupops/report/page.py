"""The page being built: :class:`Page` collects the report's sections and their blocks (cards,
notes, lists, tables, charts, and every figure of an area in a closed <details>)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup

from groupops.analytics.texts import translate
from groupops.report.figures import figure_text, fmt, num, pct, readable_time
from groupops.report.labels import (
    MODEBAR_REMOVE,
    PLOTLY_LOCALES,
    SHARE_COLUMNS,
    T_MORE,
    T_MORE_ONE,
    TEXTS,
    VALUE_COLUMNS,
    VALUE_KEYS,
    VALUE_LISTS,
    Gettext,
    key_label,
    value_label,
)

MAX_ROWS = 25  # rows per table on the page; metrics.json has them all


class Page:
    """Collects blocks for one section; charts get unique ids."""

    def __init__(self, _: Gettext, lang: str = "en", zone: str = "UTC") -> None:
        self._ = _
        self.sections: list[dict[str, Any]] = []
        self.blocks: list[dict[str, Any]] = []
        self._ids = 0
        self.area = ""
        self.lang = lang
        self.zone = zone  # the zone of the metrics' days and hours

    def section(self, key: str, title: str, help: str = "") -> None:
        """A new part of the page; ``help`` says in one line what it means and how to act."""
        self.blocks = []
        self.area = key
        self.sections.append({"key": key, "title": title, "help": help, "blocks": self.blocks})

    def cards(self, items: Iterable[tuple[str, Any]]) -> None:
        shown = [(k, v) for k, v in items if v not in (None, "–")]
        if shown:
            self.blocks.append({"kind": "cards", "items": shown})

    def note(self, text: str, css: str = "") -> None:
        self.blocks.append({"kind": "note", "text": text, "css": css})

    def bullets(self, items: Sequence[Any], title: str = "") -> None:
        if items:
            self.blocks.append(
                {"kind": "list", "items": [fmt(i, self._) for i in items], "title": title}
            )

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        if not rows:
            return
        shown = [
            [
                c if isinstance(c, int | float) and not isinstance(c, bool) else fmt(c, self._)
                for c in r
            ]
            for r in rows[:MAX_ROWS]
        ]
        shown = [[fmt(c) if isinstance(c, float) else c for c in r] for r in shown]
        left = len(rows) - MAX_ROWS
        more = (
            "" if left <= 0 else self._(T_MORE_ONE) if left == 1 else self._(T_MORE).format(n=left)
        )
        self.blocks.append(
            {"kind": "table", "title": title, "columns": list(columns), "rows": shown, "more": more}
        )

    def groups(
        self,
        title: str,
        columns: Sequence[str],
        groups: Sequence[Mapping[str, Any]],
        *,
        open_all: bool = False,
        more: int = 0,
    ) -> None:
        """Tables under one heading, each in its own <details> (``summary``, ``rows``): open
        when ``open_all``, else closed, a line each; every row is kept (no row limit).
        ``more``: rows that metrics.json holds beyond these."""
        if not groups:
            return
        note = (
            ""
            if more <= 0
            else self._(T_MORE_ONE)
            if more == 1
            else self._(T_MORE).format(n=f"{more:,}")
        )
        self.blocks.append(
            {
                "kind": "groups",
                "title": title,
                "columns": list(columns),
                "groups": [
                    {"summary": g["summary"], "rows": [list(r) for r in g["rows"]]} for g in groups
                ],
                "open": open_all,
                "more": note,
            }
        )

    def records_table(self, recs: Sequence[Mapping[str, Any]], title: str = "") -> None:
        columns: list[str] = []
        for r in recs[:MAX_ROWS]:
            for k in r:
                if k not in columns:
                    columns.append(str(k))
        rows = [
            [
                pct(r.get(c))
                if c in SHARE_COLUMNS and num(r.get(c)) is not None
                else readable_time(value_label(r.get(c), VALUE_COLUMNS.get(c, {}), self._))
                for c in columns
            ]
            for r in recs
        ]
        self.table([key_label(c, self._) for c in columns], rows, title)

    def chart(self, fig: Any) -> None:
        import plotly.io as pio

        self._ids += 1
        config: dict[str, Any] = {
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": list(MODEBAR_REMOVE),
        }
        if self.lang in PLOTLY_LOCALES:
            config["locale"] = PLOTLY_LOCALES[self.lang]["name"]
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            div_id=f"chart-{self._ids}",
            config=config,
        )
        self.blocks.append({"kind": "chart", "html": Markup(div)})

    def figures(self, obj: Mapping[str, Any], title: str) -> None:
        """Every figure of an area, as tables in a closed <details>: nothing is left out."""
        rows: list[list[tuple[str, str]]] = []
        flat: list[tuple[str, str]] = []
        _ = self._
        for k, v in obj.items():
            if isinstance(v, list) and v and isinstance(v[0], Mapping):
                continue  # lists of records are tables of their own, below
            if k in VALUE_LISTS:
                v = value_label(v, VALUE_LISTS[k], _)
            elif k in VALUE_KEYS and isinstance(v, Mapping):
                v = {value_label(w, VALUE_KEYS[k], _): n for w, n in v.items()}
            elif k in TEXTS and isinstance(v, str):
                v = translate(v, _)
            elif k in TEXTS and isinstance(v, list):
                v = [translate(x, _) if isinstance(x, str) else x for x in v]
            flat.append((key_label(k, _, self.area), figure_text(k, v, _, self.area, obj)))
        if flat:
            rows.append(flat)
        if rows:
            self.blocks.append({"kind": "details", "title": title, "rows": rows})
        for k, v in obj.items():
            if isinstance(v, list) and v and isinstance(v[0], Mapping):
                self.records_table(v, title=key_label(k, _))
