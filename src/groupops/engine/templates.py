"""Operator templates rendered in a sandbox: operator text can never run code or read server data.

Only the variables passed in exist, and only as they are: a template is refused (when checked
and when rendered) if it names anything else (``{{ self }}``, ``{{ loop }}``) or reads from a
value (``{{ name.format }}``, ``{{ name[0] }}``, ``{{ name.encode() }}``); the sandbox itself
refuses every attribute and call as well. Filters (``{{ name|upper }}``) stay. Undefined names
are an error, output and template size are bounded. :meth:`TemplateRenderer.check` (saving a
template) also refuses ``{name}``, a placeholder written in single braces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from groupops.domain.errors import TemplateError
from groupops.domain.text import clip
from groupops.i18n import N_

MAX_TEMPLATE = 4000
MAX_OUTPUT = 4096  # Telegram's message limit; other platforms allow at least this
MAX_CACHED = 512  # compiled templates kept
UNKNOWN_PLACEHOLDER = N_("unknown placeholder {name!r}; available: {allowed}")
#: Jinja's message for a name a template reads that it was not given
_UNDEFINED = re.compile(r"'(?P<name>[^']+)' is undefined")


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

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False  # a value is shown as it is: nothing is read from it

    def is_safe_callable(self, obj: Any) -> bool:
        return False


#: nodes that reach into a value: an attribute, an item, a call
_READS: tuple[type[nodes.Node], ...] = (nodes.Getattr, nodes.Getitem, nodes.Call)
#: tags that build or fetch templates: none has a use in an operator's text
_TAGS: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Block: "block",
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from",
}
#: a placeholder in single braces, ``{name}`` or ``{ name }``: the style of other bots
_SINGLE = re.compile(r"\{\s*([A-Za-z_]\w*)\s*\}")


def _shown(node: nodes.Node) -> str:
    """``node`` as the operator wrote it, near enough to recognise."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return repr(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_shown(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_shown(node.node)}[…]"
    if isinstance(node, nodes.Call):
        return f"{_shown(node.node)}()"
    return "…"


def _loaded_names(ast: nodes.Template) -> frozenset[str]:
    """The names the template reads and does not set itself (``{% set x = name %}``)."""
    stored = {n.name for n in ast.find_all(nodes.Name) if n.ctx != "load"}
    return frozenset(n.name for n in ast.find_all(nodes.Name) if n.ctx == "load") - stored


def _inspected(ast: nodes.Template, variables: Mapping[str, str], where: str) -> frozenset[str]:
    """The names ``ast`` reads; :class:`TemplateError` if it reads from a value or uses a
    tag that builds or fetches templates."""
    refused: tuple[type[nodes.Node], ...] = (*_READS, *_TAGS)
    for node in ast.find_all(refused):
        tag = _TAGS.get(type(node))
        if tag is not None:
            raise TemplateError(
                N_("{what} is not allowed in a template"), where=where, what=f"{{% {tag} %}}"
            )
        base: nodes.Node = node
        while isinstance(base, nodes.Getattr | nodes.Getitem | nodes.Call):
            base = base.node
        if isinstance(base, nodes.Name) and base.name in variables:
            example = base.name
        else:
            example = min(variables, default="name")
        raise TemplateError(
            N_("{what} is unsafe: a placeholder is written alone, like {example}"),
            where=where,
            what=f"{{{{ {_shown(node)} }}}}",
            example=f"{{{{ {example} }}}}",
        )
    return _loaded_names(ast)


def _single_braces(ast: nodes.Template, variables: Mapping[str, str]) -> Iterator[str]:
    """The placeholders written ``{name}`` in the template's plain text."""
    for data in ast.find_all(nodes.TemplateData):
        for m in _SINGLE.finditer(data.data):
            if m.group(1) in variables:
                yield m.group(1)


def _unknown(name: str, variables: Mapping[str, str], where: str) -> TemplateError:
    """The refusal of a placeholder the template's message does not have, naming it and
    those it has."""
    return TemplateError(
        UNKNOWN_PLACEHOLDER, where=where, name=name, allowed=", ".join(sorted(variables))
    )


class TemplateRenderer:
    def __init__(self) -> None:
        self._env = _BoundedSandbox(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        # no filters or globals that reach outside the given values
        self._env.globals.clear()
        #: source -> the compiled template and the names it reads
        self._compiled: dict[str, tuple[Template, frozenset[str]]] = {}
        for name in ("attr", "map", "select", "reject", "selectattr", "rejectattr", "groupby"):
            self._env.filters.pop(name, None)

    def check(self, source: str, variables: Mapping[str, str], *, where: str) -> None:
        """Raise :class:`TemplateError` if ``source`` cannot render with these variables, or
        writes one of them in single braces (``{name}``, shown as typed: a mistake)."""
        self.render(source, variables, where=where)
        ast = self._env.parse(source)  # it parsed just above
        for name in _single_braces(ast, variables):
            raise TemplateError(
                N_("{wrong} is not a placeholder: write {right}"),
                where=where,
                wrong=f"{{{name}}}",
                right=f"{{{{ {name} }}}}",
            )

    def render(self, source: str, variables: Mapping[str, str], *, where: str) -> str:
        if len(source) > MAX_TEMPLATE:
            raise TemplateError(
                N_("template longer than {most} characters"), where=where, most=MAX_TEMPLATE
            )
        try:
            compiled = self._compiled.get(source)
            if compiled is None:
                ast = self._env.parse(source)
                compiled = (self._env.from_string(ast), _inspected(ast, variables, where))
                if len(self._compiled) >= MAX_CACHED:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[source] = compiled
            template, names = compiled
            for name in sorted(names - variables.keys()):
                # named, though maybe in a branch not taken now: refused all the same
                raise _unknown(name, variables, where)
            out = template.render({k: str(v) for k, v in variables.items()})
        except TemplateSyntaxError as exc:
            raise TemplateError(
                N_("syntax error line {line}: {problem}"),
                where=where,
                line=exc.lineno,
                problem=exc.message,
            ) from None
        except UndefinedError as exc:
            found = _UNDEFINED.fullmatch(exc.message or "")
            if found is not None:
                raise _unknown(found["name"], variables, where) from None
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
