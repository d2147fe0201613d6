"""Step-by-step progress on stderr (rich), so stdout stays clean for --json."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def steps(
    title: str, total: int | None = None, *, console: object | None = None
) -> Iterator[Callable[[str], None]]:
    """Yields `step(message)`: each call completes the previous step and starts the next.

    On a terminal this is a rich progress bar; elsewhere (CI logs) one line per step.
    """
    if console is None and not sys.stderr.isatty():

        def plain(message: str) -> None:
            print(f"  {title}: {message}", file=sys.stderr, flush=True)

        yield plain
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[title]}[/bold] {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=False,
    ) as progress:
        task = progress.add_task("starting", total=total, title=title)
        started = False

        def rich_step(message: str) -> None:
            nonlocal started
            if started:
                progress.advance(task)
            started = True
            progress.update(task, description=message)

        yield rich_step
        progress.update(task, completed=progress.tasks[0].total or 1, description="done")
