"""Operator templates rendered in a sandbox: operator text can never run code or read server data.

Only the variables passed in exist, and only as they are: a template is refused (when checked
and when rendered) if it names anything else (``{{ self }}``, ``{{ loop }}``) or reads from a
value (``{{ name.format }}``, ``{{ name[0] }}``, ``{{ name.encode() }}``); the sandbox itself
refuses every attribute and call as well. Filters (``{{ name|upper }}``) stay. Undefined names
are an error, output and template size are bounded. :meth:`TemplateRenderer.check` (saving a
template) also refuses ``{name}``, a placeholder written in single braces.

Nor can a template exhaust the process (it runs in the engine, for every workspace): the
filters are an allow-list, each refused before it could build a value over
:data:`MAX_WORK` characters and after one over :data:`MAX_VALUE`; ``~``, ``+`` and ``*`` build
at most :data:`MAX_VALUE` characters, numbers at most :data:`MAX_BITS` bits; loops run at most
:data:`MAX_STEPS` rounds in all; ``%`` formatting of text is refused (its width is unbounded);
the output is read until :data:`MAX_OUTPUT` characters and no further.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from groupops.domain.errors import TemplateError
from groupops.domain.text import clip
from groupops.i18n import N_

MAX_TEMPLATE = 4000
MAX_OUTPUT = 4096  # Telegram's message limit; other platforms allow at least this
MAX_CACHED = 512  # compiled templates kept
MAX_VALUE = 4 * MAX_OUTPUT  # characters a filter, ``~``, ``+`` or ``*`` may build
MAX_WORK = 250_000  # characters a filter may go through on the way (checked before it runs)
MAX_BITS = 4096  # the largest number built, in bits (about 1,200 digits)
MAX_STEPS = 10_000  # rounds of all the loops of one rendering together
#: the filters a template may use: those that read their value and build text of a size
#: :func:`_work` bounds (not ``format``: a width in its text; not ``batch``: it fills)
FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "center",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "filesizeformat",
        "first",
        "float",
        "forceescape",
        "indent",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "replace",
        "reverse",
        "round",
        "safe",
        "sort",
        "string",
        "striptags",
        "sum",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
    }
)
#: the names of the rewritten template's own filters (see :class:`_Bounded`)
_LOOP, _TEXT = "groupops_loop", "groupops_text"
#: rounds left to the loops of the rendering under way
_STEPS: ContextVar[list[int]] = ContextVar("groupops_template_steps")
UNKNOWN_PLACEHOLDER = N_("unknown placeholder {name!r}; available: {allowed}")
#: Jinja's message for a name a template reads that it was not given
_UNDEFINED = re.compile(r"'(?P<name>[^']+)' is undefined")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus: ``*`` and ``**`` cannot build huge values."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                _bits(abs(left).bit_length() * right)
            return _bounded(left**right)
        if operator == "%":
            if isinstance(left, str):  # printf-style: "%999999999s" builds what it likes
                raise SecurityError("% formatting of text")
            return left % right
        if operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                _size(len(left) + len(right))
            return _bounded(left + right)
        if isinstance(left, str | list | tuple) or isinstance(right, str | list | tuple):
            count = right if isinstance(left, str | list | tuple) else left
            seq = left if isinstance(left, str | list | tuple) else right
            if isinstance(count, int) and len(seq) * count > MAX_OUTPUT:
                raise SecurityError("repetition too large")
        elif isinstance(left, int) and isinstance(right, int):
            _bits(abs(left).bit_length() + abs(right).bit_length())
        return _bounded(left * right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False  # a value is shown as it is: nothing is read from it

    def is_safe_callable(self, obj: Any) -> bool:
        return False


def _size(length: int) -> None:
    if length > MAX_VALUE:
        raise SecurityError(f"a value over {MAX_VALUE} characters")


def _bits(bits: int) -> None:
    if bits > MAX_BITS:
        raise SecurityError(f"a number over {MAX_BITS} bits")


def _bounded(value: Any) -> Any:
    """``value``, refused if it is text or a list over MAX_VALUE, a number over MAX_BITS."""
    if isinstance(value, str | list | tuple):
        _size(len(value))
    elif isinstance(value, int):
        _bits(abs(value).bit_length())
    return value


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else len(str(value))


def _work(value: Any, args: Iterable[Any]) -> int:
    """An upper bound of what a filter of ``value`` with ``args`` builds: each of its
    characters (and one more) may become every text argument (``replace``, ``indent``,
    ``join``, ``wordwrap``), plus the largest number asked for (``center``'s width)."""
    texts = sum(_length(a) for a in args if isinstance(a, str | list | tuple))
    numbers = [abs(a) for a in args if isinstance(a, int | float)]
    return (_length(value) + 1) * (1 + texts) + int(max(numbers, default=0))


def _guarded(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
    """The filter ``run``, refused before it could build too much, and after it did."""
    # a filter gets (value, args...), or (environment, context or eval context, value, args...)
    skip = 1 if hasattr(run, "jinja_pass_arg") else 0

    def guarded(*args: Any, **kwargs: Any) -> Any:
        # with arguments (a width, a text to put in) it may build much more than its value
        if (len(args) > skip + 1 or kwargs) and _work(
            args[skip], [*args[skip + 1 :], *kwargs.values()]
        ) > MAX_WORK:
            raise SecurityError(f"the filter {name} would build too much")
        return _bounded(run(*args, **kwargs))

    if skip:  # pass_context / pass_environment / pass_eval_context, as the filter asks
        guarded.jinja_pass_arg = run.jinja_pass_arg  # type: ignore[attr-defined]
    return guarded


def _loop(value: Any) -> Iterator[Any]:
    """What a ``{% for %}`` goes through, counted against the rendering's rounds."""
    steps = _STEPS.get()
    for item in value:
        steps[0] -= 1
        if steps[0] < 0:
            raise SecurityError(f"loops of over {MAX_STEPS} rounds")
        yield item


class _Bounded(NodeTransformer):
    """Rewrites a checked template: every loop goes through :func:`_loop`, every ``~`` through
    :func:`_bounded`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _TEXT, [], [], None, None, lineno=node.lineno)


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


def _read(pieces: Iterator[str]) -> str:
    """The output, read no further than MAX_OUTPUT characters (clipped afterwards)."""
    out: list[str] = []
    length = 0
    for piece in pieces:
        out.append(piece)
        length += len(piece)
        if length > MAX_OUTPUT:
            break
    return "".join(out)


class TemplateRenderer:
    def __init__(self) -> None:
        self._env = _BoundedSandbox(
            undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
        )
        # no filters or globals that reach outside the given values
        self._env.globals.clear()
        #: source -> the compiled template and the names it reads
        self._compiled: dict[str, tuple[Template, frozenset[str]]] = {}
        kept = {n: _guarded(n, f) for n, f in self._env.filters.items() if n in FILTERS}
        self._env.filters.clear()
        self._env.filters.update(kept)
        self._env.filters[_LOOP] = _loop
        self._env.filters[_TEXT] = _bounded
        # tests (``is``) read their value only; none builds anything

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
                names = _inspected(ast, variables, where)
                bounded = _Bounded().visit(ast)
                assert isinstance(bounded, nodes.Template)
                compiled = (self._env.from_string(bounded), names)
                if len(self._compiled) >= MAX_CACHED:
                    self._compiled.pop(next(iter(self._compiled)))
                self._compiled[source] = compiled
            template, names = compiled
            for name in sorted(names - variables.keys()):
                # named, though maybe in a branch not taken now: refused all the same
                raise _unknown(name, variables, where)
            steps = _STEPS.set([MAX_STEPS])
            try:
                context = template.new_context({k: str(v) for k, v in variables.items()})
                out = _read(template.root_render_func(context))
            finally:
                _STEPS.reset(steps)
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
