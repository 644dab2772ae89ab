"""One strict YAML loader for front matter and settings: what the editor typed, nothing more.

PyYAML's safe loader follows YAML 1.1, which rewrites what an editor typed: ``9:30`` becomes
``570``, ``3.10`` becomes ``3.1``, ``010`` becomes ``8``. It also expands aliases (a few
hundred bytes can become gigabytes), follows explicit tags (``!!int "abc"`` is a traceback)
and merges keys silently. This loader composes the document itself from the parser's events
and refuses, with the line and a fix, everything nieuwsbrief has no use for:

* anchors, aliases, merge keys (``<<``) and explicit tags;
* a key that is not a plain scalar, a key written twice, more than one document;
* nesting deeper than ``MAX_DEPTH``, scalars longer than ``MAX_SCALAR`` characters and
  more than ``MAX_NODES`` values in one document (time and memory stay bounded).

Scalars keep the characters as written: every scalar is text, except the plain words of the
YAML 1.2 core schema for null (``null``, ``~``, empty) and booleans (``true``, ``false``).
Numbers, dates and times stay text; the code that reads a field parses them where the field
is a number, a date or a time, with its own bounds.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 20
MAX_SCALAR = 10_000
MAX_NODES = 5_000

STR = "tag:yaml.org,2002:str"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"

# YAML 1.2 core schema: the only plain words that are not text.
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})

TAB_FIX = "indent with spaces, not tabs"


class YamlRefused(yaml.YAMLError):
    """The YAML cannot be read, or uses a feature nieuwsbrief refuses; holds line and fix.

    ``line`` counts from 1 in the text given to ``load_yaml`` (None when unknown);
    ``fix`` is None for a plain syntax error, where the caller knows the best hint.
    """

    def __init__(
        self, problem: str, line: int | None, fix: str | None = None, key: str | None = None
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line
        self.fix = fix
        self.key = key
        self.syntax = False

    def describe(self) -> str:
        """Say what is wrong, for any file: 'is not valid YAML at line 3: ...'.

        The one wording of a YAML problem; the caller puts the file (and the part of it,
        such as 'front matter') before it and adds ``fix`` or its own hint.
        """
        what = "is not valid YAML" if self.syntax else "uses YAML that is not supported"
        where = f" at line {self.line}" if self.line is not None else ""
        return f"{what}{where}: {self.problem}"


class DuplicateKeyError(YamlRefused):
    """A mapping holds the same key twice."""

    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"is written twice (again on line {line})", line, "keep only one of them")
        self.key = key


def _short_tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!")


class _StrictComposer:
    """Build the node graph from parser events, refusing what nieuwsbrief does not support."""

    # Provided by the parser half of the loader (libyaml's CParser or PyYAML's Parser).
    check_event: Any
    get_event: Any
    peek_event: Any

    nodes = 0

    def get_single_node(self) -> Node | None:
        self.get_event()  # StreamStartEvent
        node = None
        if not self.check_event(StreamEndEvent):
            self.get_event()  # DocumentStartEvent
            node = self._compose(0)
            self.get_event()  # DocumentEndEvent
        if not self.check_event(StreamEndEvent):
            event = self.get_event()
            raise YamlRefused(
                "holds more than one YAML document",
                event.start_mark.line + 1,
                "remove the extra '---' line",
            )
        self.get_event()
        return node

    def _compose(self, depth: int) -> Node:
        event = self.get_event()
        start: Any = event.start_mark
        line = start.line + 1
        if isinstance(event, AliasEvent):
            raise YamlRefused(
                f"uses the alias *{str(event.anchor)[:40]}",
                line,
                "anchors and aliases (& and *) are not supported; write the value out in full",
            )
        if event.anchor is not None:
            raise YamlRefused(
                f"defines the anchor &{event.anchor[:40]}",
                line,
                "anchors and aliases (& and *) are not supported; remove the &name",
            )
        if event.tag is not None:
            raise YamlRefused(
                f"uses the explicit tag {_short_tag(event.tag)[:40]}",
                line,
                "remove the tag; put a text value between quotes",
            )
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlRefused(
                f"holds more than {MAX_NODES:,} keys and values",
                line,
                "keep only the settings or front matter in it",
            )
        if depth >= MAX_DEPTH:
            raise YamlRefused(
                f"nests lists and mappings more than {MAX_DEPTH} levels deep",
                line,
                "flatten the value",
            )
        if isinstance(event, ScalarEvent):
            if len(event.value) > MAX_SCALAR:
                raise YamlRefused(
                    f"holds a value of {len(event.value):,} characters, "
                    f"more than the {MAX_SCALAR:,} allowed",
                    line,
                    "shorten it",
                )
            tag = STR
            if event.implicit[0]:  # a plain (unquoted) scalar
                if event.value in _NULLS:
                    tag = NULL
                elif event.value in _BOOLS:
                    tag = BOOL
            end_mark: Any = event.end_mark
            return ScalarNode(tag, event.value, start, end_mark, event.style)
        if isinstance(event, SequenceStartEvent):
            items: list[Node] = []
            while not self.check_event(SequenceEndEvent):
                items.append(self._compose(depth + 1))
            end = self.get_event()
            return SequenceNode(SEQ, items, start, end.end_mark, event.flow_style)
        if isinstance(event, MappingStartEvent):
            pairs: list[tuple[Node, Node]] = []
            seen: set[str] = set()
            while not self.check_event(MappingEndEvent):
                key_event = self.peek_event()
                key_line = key_event.start_mark.line + 1
                if not isinstance(key_event, ScalarEvent):
                    self._compose(depth + 1)  # report an alias or a tag first
                    raise YamlRefused(
                        "has a list or mapping as a key", key_line, "write keys as plain words"
                    )
                key = self._compose(depth + 1)
                assert isinstance(key, ScalarNode)
                key.tag = STR  # keys are always text, as written
                if key_event.implicit[0] and key.value == "<<":
                    raise YamlRefused(
                        "uses a merge key (<<)",
                        key_line,
                        "merge keys are not supported; write the keys out",
                    )
                if key.value in seen:
                    raise DuplicateKeyError(key.value, key_line)
                seen.add(key.value)
                pairs.append((key, self._compose(depth + 1)))
            end = self.get_event()
            return MappingNode(MAP, pairs, start, end.end_mark, event.flow_style)
        raise YamlRefused(f"has an unexpected {type(event).__name__}", line)  # pragma: no cover


_CParser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)

if _CParser is not None:

    class _Loader(_StrictComposer, _CParser, SafeConstructor):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            SafeConstructor.__init__(self)

else:  # pragma: no cover - PyYAML without libyaml

    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Loader(_StrictComposer, Reader, Scanner, Parser, SafeConstructor):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            SafeConstructor.__init__(self)


def _syntax_error(exc: yaml.YAMLError, text: str) -> YamlRefused:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = str(getattr(exc, "problem", None) or exc).split("\n")[0]
    fix = None
    lines = text.split("\n")
    if "\\t" in problem or (
        line is not None
        and line <= len(lines)
        and "\t" in lines[line - 1][: len(lines[line - 1]) - len(lines[line - 1].lstrip())]
    ):
        fix = TAB_FIX
    refused = YamlRefused(problem[:200], line, fix)
    refused.syntax = True
    return refused


def load_yaml(text: str) -> object:
    """Parse one YAML document strictly (see the module docstring); raise ``YamlRefused``."""
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except YamlRefused:
        raise
    except yaml.YAMLError as exc:
        raise _syntax_error(exc, text) from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps recursion shallow
        raise YamlRefused("nests too deeply", None, "flatten the value") from None
    finally:
        loader.dispose()
