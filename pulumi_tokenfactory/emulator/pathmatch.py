"""Fault path patterns whose matching time is bounded: globs, and regular expressions without backtracking.

A fault's `path` is tried against every request while the emulator's one
event loop waits. It used to go to Python's `re`, a backtracking engine, on
which a pattern such as `^/(a+)+$` takes exponential time: one request to
`/` and thirty `a`s and a `!` froze the whole emulator for half a minute,
forty for hours. Python's `re` has no timeout, so the bound must come from
the matcher itself:

- a glob (any pattern not starting with `^`) goes to `fnmatch.fnmatchcase`,
  whose translation makes every `*` but the last atomic, so a glob never
  backtracks across stars;
- a pattern starting with `^` is a regular expression in the subset parsed
  here (literals, `.`, classes, `\\d \\w \\s` and their negations, groups,
  `|`, `* + ? {m,n}` and their lazy forms, `^ $ \\A \\Z`), compiled to a
  Thompson automaton and run one set of states per character, with the sets
  cached as a lazily built DFA. Time is linear in the path: at most
  `MAX_STATES` steps per character, whatever the pattern. Backreferences,
  lookarounds, word boundaries, atomic groups, possessive quantifiers and
  inline flags have no such bound and are refused when the fault is armed.

Both kinds are limited to `MAX_PATTERN_LENGTH` characters.
"""

from __future__ import annotations

import fnmatch
import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass

MAX_PATTERN_LENGTH = 256
#: Automaton states a regular expression may compile to (a counted repeat such as `{50}` makes copies).
MAX_STATES = 256
#: Groups within groups; deeper nesting is refused before the parser's recursion could matter.
MAX_GROUP_DEPTH = 32
#: Cached DFA states per pattern before the cache starts afresh (memory stays bounded).
_MAX_CACHED_SETS = 4096


class PatternError(ValueError):
    """A path pattern this matcher refuses; the message says what to change."""


def check_pattern(pattern: str) -> None:
    """Raise PatternError unless `pattern` is a glob or a supported regular expression within the limits."""
    _compiled(pattern)


def path_matches(pattern: str, path: str) -> bool:
    """Whether `path` matches: a glob matches the whole path, a `^` pattern as `re.search` would."""
    return _compiled(pattern)(path)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> Callable[[str], bool]:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"a path pattern may have at most {MAX_PATTERN_LENGTH} characters, got {len(pattern)}")
    if not pattern.startswith("^"):
        return functools.partial(_glob, pattern)
    return _Automaton(_Parser(pattern).parse())


def _glob(pattern: str, path: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern)


# -- parsing ------------------------------------------------------------------------------------------

#: A set of characters: ranges of code points, named classes (d w s, upper case negated), possibly negated whole.
@dataclass(frozen=True)
class CharSet:
    ranges: tuple[tuple[int, int], ...]
    classes: str = ""
    negated: bool = False

    def __contains__(self, char: str) -> bool:
        code = ord(char)
        found = any(low <= code <= high for low, high in self.ranges) or any(
            _in_class(name, char) for name in self.classes)
        return found != self.negated


def _in_class(name: str, char: str) -> bool:
    """`\\d \\w \\s` as Python's `re` defines them for str patterns (Unicode); upper case is the complement."""
    lower = name.lower()
    if lower == "d":
        found = char.isdecimal()
    elif lower == "w":
        found = char.isalnum() or char == "_"
    else:
        found = char.isspace()
    return found if name == lower else not found


DOT = CharSet(((10, 10),), "", negated=True)  # `.` is any character but a newline, as in `re` without DOTALL


@dataclass(frozen=True)
class Chars:
    chars: CharSet


@dataclass(frozen=True)
class Assert:
    #: "start" (^, \A), "end" ($: the end or before a final newline), "end_abs" (\Z)
    kind: str


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat:
    item: Node
    low: int
    high: int | None


Node = Chars | Assert | Seq | Alt | Repeat

_ESCAPED_CLASSES = "dDwWsS"
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "0": "\0"}
_REFUSED_ESCAPES = {
    "b": "word boundaries (\\b)", "B": "word boundaries (\\B)",
}


class _Parser:
    """A recursive-descent parser of the supported subset, with `re`'s meaning for everything it accepts."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0
        self.depth = 0

    def fail(self, message: str) -> PatternError:
        return PatternError(f"{message} (at position {self.pos} of the regular expression)")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def parse(self) -> Node:
        node = self.alternation()
        if self.pos < len(self.text):
            raise self.fail("unbalanced parenthesis")
        return node

    def alternation(self) -> Node:
        options = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.pos < len(self.text) and self.peek() not in "|)":
            items.append(self.repeat())
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def repeat(self) -> Node:
        start = self.pos
        atom = self.atom()
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if isinstance(atom, Assert):
            self.pos = start
            raise self.fail("nothing to repeat")
        if self.peek() == "?":  # lazy: the same set of matches, so the same answer for a yes/no match
            self.pos += 1
        elif self.peek() == "+":
            raise self.fail("possessive quantifiers are not supported")
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self._counted_ahead()):
            raise self.fail("multiple repeat")
        return Repeat(atom, *bounds)

    def _counted_ahead(self) -> bool:
        saved = self.pos
        try:
            return self.quantifier() is not None
        finally:
            self.pos = saved

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char in ("*", "+", "?"):
            self.pos += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        if char != "{":
            return None
        end = self.text.find("}", self.pos)
        body = self.text[self.pos + 1:end] if end > 0 else ""
        low_text, comma, high_text = body.partition(",")
        if end < 0 or not (low_text.isdigit() or (comma and not low_text)) or (high_text and not high_text.isdigit()):
            return None  # not a repeat count: `{` is a literal, as in `re`
        if not comma and not low_text:
            return None
        low = int(low_text) if low_text else 0
        high = None if comma and not high_text else int(high_text or low_text)
        if high is not None and high < low:
            raise self.fail("min repeat greater than max repeat")
        if low > MAX_STATES or (high is not None and high > MAX_STATES):
            raise self.fail(f"a repeat count may be at most {MAX_STATES}")
        self.pos = end + 1
        return low, high

    def atom(self) -> Node:
        char = self.take()
        if char == "(":
            return self.group()
        if char == "[":
            return Chars(self.char_set())
        if char == ".":
            return Chars(DOT)
        if char == "^":
            return Assert("start")
        if char == "$":
            return Assert("end")
        if char == "\\":
            return self.escape()
        if char in ("*", "+", "?"):
            self.pos -= 1
            raise self.fail("nothing to repeat")
        if char == "{" and self._counted_here():
            self.pos -= 1
            raise self.fail("nothing to repeat")
        return Chars(CharSet(((ord(char), ord(char)),)))

    def _counted_here(self) -> bool:
        self.pos -= 1
        try:
            return self._counted_ahead()
        finally:
            self.pos += 1

    def group(self) -> Node:
        if self.text.startswith("?:", self.pos):
            self.pos += 2
        elif self.text.startswith("?P<", self.pos):
            end = self.text.find(">", self.pos)
            name = self.text[self.pos + 3:end] if end > 0 else ""
            if not name.isidentifier():
                raise self.fail("bad group name")
            self.pos = end + 1
        elif self.peek() == "?":
            what = {"=": "lookahead", "!": "lookahead", "<": "lookbehind", ">": "atomic groups",
                    "P": "backreferences", "#": "comments", "(": "conditionals"}.get(
                self.text[self.pos + 1:self.pos + 2], "inline flags")
            raise self.fail(f"{what} are not supported in fault path patterns")
        self.depth += 1
        if self.depth > MAX_GROUP_DEPTH:
            raise self.fail(f"groups may nest at most {MAX_GROUP_DEPTH} deep")
        node = self.alternation()
        self.depth -= 1
        if self.take() != ")":
            raise self.fail("missing ), unterminated subpattern")
        return node

    def escape(self) -> Node:
        char = self.take()
        if not char:
            raise self.fail("bad escape (end of pattern)")
        if char in _ESCAPED_CLASSES:
            return Chars(CharSet((), char))
        if char == "A":
            return Assert("start")
        if char == "Z":
            return Assert("end_abs")
        code = self._code_point(char)
        return Chars(CharSet(((code, code),)))

    def _code_point(self, char: str) -> int:
        """The character an escape outside the named classes stands for."""
        if char in _SIMPLE_ESCAPES:
            return ord(_SIMPLE_ESCAPES[char])
        if char in ("x", "u", "U"):
            digits = {"x": 2, "u": 4, "U": 8}[char]
            hexa = self.text[self.pos:self.pos + digits]
            if len(hexa) != digits or any(c not in "0123456789abcdefABCDEF" for c in hexa):
                raise self.fail(f"incomplete escape \\{char}{hexa}")
            self.pos += digits
            code = int(hexa, 16)
            if code > 0x10FFFF:
                raise self.fail(f"bad escape \\{char}{hexa}")
            return code
        if char in _REFUSED_ESCAPES:
            raise self.fail(f"{_REFUSED_ESCAPES[char]} are not supported in fault path patterns")
        if char.isdigit():
            raise self.fail("backreferences are not supported in fault path patterns")
        if char.isascii() and char.isalpha():
            raise self.fail(f"bad escape \\{char}")
        return ord(char)

    def char_set(self) -> CharSet:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        ranges: list[tuple[int, int]] = []
        classes = ""
        first = True
        while True:
            char = self.take()
            if not char:
                raise self.fail("unterminated character set")
            if char == "]" and not first:
                return CharSet(tuple(ranges), classes, negated)
            first = False
            if char == "\\":
                escaped = self.take()
                if escaped in _ESCAPED_CLASSES:
                    classes += escaped
                    continue
                if not escaped:
                    raise self.fail("unterminated character set")
                low = 8 if escaped == "b" else self._code_point(escaped)
            else:
                low = ord(char)
            high = low
            if self.peek() == "-" and self.text[self.pos + 1:self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self.take()
                if end == "\\":
                    escaped = self.take()
                    if escaped in _ESCAPED_CLASSES:
                        raise self.fail("bad character range")
                    high = self._code_point(escaped)
                else:
                    high = ord(end)
                if high < low:
                    raise self.fail("bad character range")
            ranges.append((low, high))


# -- the automaton ------------------------------------------------------------------------------------

#: Kinds of automaton state.
_CHAR, _SPLIT, _ASSERT, _MATCH = range(4)
#: Where a position lies, for the assertions: at the start, at the very end, just before a final "\n".
_START, _END, _BEFORE_FINAL_NEWLINE = 1, 2, 4
#: States are grouped in bytes of a bit mask; a step ORs one precomputed mask per non-empty byte.
_CHUNK = 8


class _Automaton:
    """A Thompson NFA run without backtracking: the set of live states, a bit mask, advanced once per character.

    A step costs at most MAX_STATES / 8 mask operations (for each byte of live states that
    can read the character, a precomputed OR of where they lead), and repeated steps are
    answered from a cache, so a path costs O(len(path)) whatever the pattern.
    """

    def __init__(self, node: Node) -> None:
        self.kinds: list[int] = []
        self.chars: list[CharSet | None] = []
        self.asserts: list[str] = []
        self.outs: list[list[int]] = []
        self.match = self._state(_MATCH)
        self.start = self._build(node, self.match)
        self._lock = threading.Lock()
        self._reset_cache()

    def _state(self, kind: int, chars: CharSet | None = None, assertion: str = "",
               outs: list[int] | None = None) -> int:
        if len(self.kinds) >= MAX_STATES:
            raise PatternError(f"the regular expression is too large: it needs more than {MAX_STATES} automaton "
                               "states (a large repeat count copies what it repeats); simplify it")
        self.kinds.append(kind)
        self.chars.append(chars)
        self.asserts.append(assertion)
        self.outs.append(outs or [])
        return len(self.kinds) - 1

    def _build(self, node: Node, then: int) -> int:
        """The start state of an automaton for `node` that continues to state `then` (built back to front)."""
        if isinstance(node, Chars):
            return self._state(_CHAR, node.chars, outs=[then])
        if isinstance(node, Assert):
            return self._state(_ASSERT, assertion=node.kind, outs=[then])
        if isinstance(node, Seq):
            for item in reversed(node.items):
                then = self._build(item, then)
            return then
        if isinstance(node, Alt):
            return self._state(_SPLIT, outs=[self._build(option, then) for option in node.options])
        after = then
        if node.high is None:
            loop = self._state(_SPLIT)
            self.outs[loop] = [self._build(node.item, loop), then]
            after = loop
        else:
            for _ in range(node.high - node.low):
                after = self._state(_SPLIT, outs=[self._build(node.item, after), then])
        for _ in range(node.low):
            after = self._build(node.item, after)
        return after

    def _reset_cache(self) -> None:
        """Forget every cached result; each cache is bounded, and this is what keeps it so."""
        self._closures: dict[tuple[int, int], int] = {}
        self._readers: dict[str, int] = {}
        self._follows: dict[tuple[int, int, int], int] = {}
        self._steps: dict[tuple[int, str, int], int] = {}

    def _closure(self, state: int, where: int) -> int:
        """The mask of character and match states reachable from `state` without reading a character."""
        key = (state, where)
        known = self._closures.get(key)
        if known is not None:
            return known
        found, seen, stack = 0, set(), [state]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            kind = self.kinds[current]
            if kind == _SPLIT:
                stack.extend(self.outs[current])
            elif kind == _ASSERT:
                assertion = self.asserts[current]
                holds = (where & _START if assertion == "start"
                         else where & _END if assertion == "end_abs"
                         else where & (_END | _BEFORE_FINAL_NEWLINE))
                if holds:
                    stack.extend(self.outs[current])
            else:
                found |= 1 << current
        self._closures[key] = found
        return found

    def _readers_of(self, char: str) -> int:
        """The mask of character states that accept `char`."""
        known = self._readers.get(char)
        if known is None:
            known = 0
            for state, chars in enumerate(self.chars):
                if chars is not None and char in chars:
                    known |= 1 << state
            self._readers[char] = known
        return known

    def _follow(self, chunk: int, bits: int, where: int) -> int:
        """Where the states of byte `chunk` set in `bits` lead after reading their character."""
        key = (chunk, bits, where)
        known = self._follows.get(key)
        if known is None:
            known = 0
            for offset in range(_CHUNK):
                if bits >> offset & 1:
                    known |= self._closure(self.outs[chunk * _CHUNK + offset][0], where)
            self._follows[key] = known
        return known

    def __call__(self, text: str) -> bool:
        with self._lock:
            if len(self._steps) + len(self._readers) > 65536:
                self._reset_cache()
            return self._search(text)

    def _search(self, text: str) -> bool:
        end = len(text)
        final_newline = end - 1 if text.endswith("\n") else -1
        current = self._closure(self.start, _START | (_END if end == 0 else 0)
                                | (_BEFORE_FINAL_NEWLINE if final_newline == 0 else 0))
        match = 1 << self.match
        for index, char in enumerate(text):
            if current & match:
                return True
            position = index + 1
            where = _END if position == end else _BEFORE_FINAL_NEWLINE if position == final_newline else 0
            key = (current, char, where)
            following = self._steps.get(key)
            if following is None:
                # A search may begin at any position; a pattern anchored with ^ makes that beginning die at once.
                following = self._closure(self.start, where)
                live, chunk = current & self._readers_of(char), 0
                while live:
                    bits = live & 0xFF
                    if bits:
                        following |= self._follow(chunk, bits, where)
                    live >>= _CHUNK
                    chunk += 1
                self._steps[key] = following
            current = following
        return bool(current & match)
