"""Cutting long Markdown into pieces that each render on their own.

GitHub refuses a comment past 65,536 characters. Cuts fall between lines;
a cut inside a fenced code block closes and reopens the fence, open
`<details>` blocks are closed and reopened with their summary marked
"(continued)", and a cut inside a table repeats the table's header row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_SEPARATOR_RE = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


@dataclass
class _Open:
    """Block structure open at the current line: what a cut must close and reopen."""

    fence: str | None = None  # the fence's opening line
    fence_mark: str = ""
    details: list[str] = field(default_factory=list)  # opening lines, outermost first
    table_header: list[str] = field(default_factory=list)
    previous: str = ""

    def closers(self) -> str:
        out = ""
        if self.fence is not None:
            out += self.fence_mark + "\n"
        out += "\n</details>\n" * len(self.details)
        return out

    def reopeners(self) -> list[str]:
        # The blank line after each opening lets Markdown (a table) render inside it.
        out = [_continued(d) + "\n" for d in self.details]
        if self.fence is not None:
            out.append(self.fence)
        elif self.table_header:
            out.extend(self.table_header)
        return out

    def feed(self, line: str) -> None:
        stripped = line.strip()
        if self.fence is not None:
            if (
                stripped
                and set(stripped) == {self.fence_mark[0]}
                and len(stripped) >= len(self.fence_mark)
            ):
                self.fence = None
            self.previous = line
            return
        opened = _FENCE_RE.match(line)
        if opened:
            self.fence, self.fence_mark = line if line.endswith("\n") else line + "\n", opened[1]
            self.table_header = []
        else:
            lowered = stripped.lower()
            for _ in range(lowered.count("<details")):
                self.details.append(line if line.endswith("\n") else line + "\n")
            for _ in range(lowered.count("</details>")):
                if self.details:
                    self.details.pop()
            if stripped.startswith("|") and _TABLE_SEPARATOR_RE.match(stripped):
                self.table_header = [self.previous, line]
            elif not stripped.startswith("|"):
                self.table_header = []
        self.previous = line


def _continued(opening: str) -> str:
    """A `<details>` opening line for a continued block: same summary, marked continued."""
    if "</summary>" in opening:
        return opening.replace("</summary>", " (continued)</summary>", 1)
    return opening


def _hard_wrap(line: str, width: int) -> Iterator[str]:
    """A line longer than a whole part (pathological input) cut into pieces that fit."""
    body = line.rstrip("\n")
    for start in range(0, len(body), width):
        yield body[start : start + width] + "\n"


def split_markdown(text: str, limit: int) -> list[str]:
    """Cut Markdown into pieces of at most `limit` characters, each of which renders.

    Cuts fall between lines. A cut inside a fenced code block closes the fence
    and reopens it (same info string) in the next piece; open `<details>`
    blocks are closed and reopened with their summary marked "(continued)";
    a cut inside a table repeats the table's header row.
    """
    if len(text) <= limit:
        return [text]
    if limit < 200:
        raise ValueError("a part must hold at least 200 characters")
    state = _Open()
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    width = max(100, limit // 4)
    lines = [p for line in text.splitlines(keepends=True) for p in _pieces(line, width)]
    for line in lines:
        if current and size + len(line) + len(state.closers()) > limit:
            pieces.append("".join(current) + state.closers())
            current = state.reopeners()
            size = sum(len(x) for x in current)
        current.append(line)
        size += len(line)
        state.feed(line)
    if current:
        pieces.append("".join(current))
    return pieces


def _pieces(line: str, width: int) -> Iterator[str]:
    if len(line) <= width:
        yield line
    else:
        yield from _hard_wrap(line, width)
