"""Finding commands in a comment, and splitting their arguments.

Commands are read only at the start of a line (up to three spaces of
indentation, as Markdown allows before a line stops being a paragraph),
never inside fenced or indented code, block quotes or HTML comments. Text
is only ever split into words and matched against allowlists: nothing here,
or downstream, hands comment text to a shell.

Lines end where CommonMark (and GitHub) end them: at `\n`, `\r\n` or `\r`
only. Python's `str.splitlines` also splits at U+2028, U+2029, U+0085, VT,
FF and the FS/GS/RS controls, which would lift a command out of a quote or a
fence that GitHub renders as one line.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

MAX_LINE = 500  # a command line longer than this is not a command
_COMMAND = re.compile(r"^ {0,3}/(?P<name>[a-z][a-z-]{0,30})(?:\s+(?P<rest>.*))?$")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")


@dataclass(frozen=True)
class Invocation:
    name: str
    args: tuple[str, ...]
    line: int  # 1-based line number in the comment
    text: str  # the command line, stripped, for replies
    raw: str = ""  # the line exactly as written: what a pending command's digest covers


_LINE_END = re.compile(r"\r\n|\r|\n")


def lines(body: str) -> list[str]:
    """A comment's lines as CommonMark counts them."""
    return _LINE_END.split(body)


def _strip_html_comments(body: str) -> str:
    # Keep line numbers: replace comment text by as many newlines as it held.
    return re.sub(
        r"<!--.*?-->", lambda m: "\n" * len(_LINE_END.findall(m.group(0))), body, flags=re.S
    )


def find(body: str) -> list[Invocation]:
    """Every command line in a comment body, in order."""
    found = []
    fence: str | None = None
    for number, line in enumerate(lines(_strip_html_comments(body)), start=1):
        if fence is not None:
            if line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
                fence = None
            continue
        if m := _FENCE.match(line):
            fence = m["fence"]
            continue
        if line.startswith(("    ", "\t")) or line.lstrip().startswith(">"):
            continue
        if len(line) > MAX_LINE:
            continue
        if m := _COMMAND.match(line.rstrip(" \t")):
            args = tuple(m["rest"].split()) if m["rest"] else ()
            found.append(Invocation(m["name"], args, number, line.strip(), line))
    return found


def suggest(name: str, known: list[str]) -> str | None:
    """The known command a mistyped one most likely meant, if any is close."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    return close[0] if close else None


def take_reason(args: tuple[str, ...], keyword: str = "because") -> tuple[tuple[str, ...], str]:
    """Split `... because the rest of the line` into (words before, reason)."""
    if keyword in args:
        i = args.index(keyword)
        return args[:i], " ".join(args[i + 1 :])
    return args, ""
