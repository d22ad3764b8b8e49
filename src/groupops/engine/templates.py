"""Operator templates rendered in a sandbox: operator text can never run code or read server data.

Only the variables passed in exist; attribute access to internals is refused by Jinja's
immutable sandbox, undefined names are an error, output and template size are bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from groupops.domain.errors import TemplateError
from groupops.domain.text import clip
from groupops.i18n import N_

MAX_TEMPLATE = 4000
MAX_OUTPUT = 4096  # Telegram's message limit; other platforms allow at least this
MAX_CACHED = 512  # compiled templates kept


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus: ``*`` and ``**`` cannot build huge values."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return left**right
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            count = right if isinstance(left, str | list | tuple) else left
            seq = left if isinstance(left, str | list | tuple) else right
            if isinstance(count, int) and len(seq) * count > MAX_OUTPUT:
                raise SecurityError("repetition too large")
        return left * right


class TemplateRenderer:
    def __init__(self) -> None:
        self._env = _BoundedSandbox(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        # no filters or globals that reach outside the given values
        self._env.globals.clear()
        self._compiled: dict[str, Template] = {}
        for name in ("attr", "map", "select", "reject", "selectattr", "rejectattr", "groupby"):
            self._env.filters.pop(name, None)

    def check(self, source: str, variables: Mapping[str, str], *, where: str) -> None:
        """Raise :class:`TemplateError` if ``source`` cannot render with these variables."""
        self.render(source, variables, where=where)

    def render(self, source: str, variables: Mapping[str, str], *, where: str) -> str:
        if len(source) > MAX_TEMPLATE:
            raise TemplateError(
                N_("template longer than {most} characters"), where=where, most=MAX_TEMPLATE
            )
        try:
            template = self._compiled.get(source)
            if template is None:
                template = self._env.from_string(source)
                if len(self._compiled) >= MAX_CACHED:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[source] = template
            out = template.render({k: str(v) for k, v in variables.items()})
        except TemplateSyntaxError as exc:
            raise TemplateError(
                N_("syntax error line {line}: {problem}"),
                where=where,
                line=exc.lineno,
                problem=exc.message,
            ) from None
        except UndefinedError as exc:
            raise TemplateError(
                N_("{problem}; allowed placeholders: {allowed}"),
                where=where,
                problem=exc.message,
                allowed=", ".join(sorted(variables)),
            ) from None
        except SecurityError as exc:
            raise TemplateError(N_("not allowed: {reason}"), where=where, reason=exc) from None
        except (TypeError, ValueError, OverflowError, RecursionError, MemoryError) as exc:
            raise TemplateError(f"{type(exc).__name__}: {exc}", where=where) from None
        return clip(out, MAX_OUTPUT)
