"""Finding commands in a comment, and splitting their arguments.

Commands are read only at the start of a line (up to three spaces of
indentation, as Markdown allows before a line stops being a paragraph),
never inside fenced or indented code, block quotes or HTML comments. Text
is only ever split into words and matched against allowlists: nothing here,
or downstream, hands comment text to a shell.
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
    text: str  # the command line as written, for replies


def _strip_html_comments(body: str) -> str:
    # Keep line numbers: replace comment text by as many newlines as it held.
    return re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), body, flags=re.S)


def find(body: str) -> list[Invocation]:
    """Every command line in a comment body, in order."""
    found = []
    fence: str | None = None
    for number, line in enumerate(_strip_html_comments(body).splitlines(), start=1):
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
        if m := _COMMAND.match(line.rstrip()):
            args = tuple(m["rest"].split()) if m["rest"] else ()
            found.append(Invocation(m["name"], args, number, line.strip()))
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
