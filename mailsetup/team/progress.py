"""Progress for runs over many rows: a rich bar on a terminal, nothing when piped.

rich is imported only when standard error is a terminal, so scripts and CI logs never pay for
it and never get cursor movement in a log file. Row failures are printed through the bar's
console while it runs, so a message does not tear the bar.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, TextIO


class RowProgress:
    """``with RowProgress(total, "Writing") as bar: bar.advance(); bar.note("row 3: ...")``."""

    def __init__(self, total: int | None, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total = total
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    @staticmethod
    def wanted(stream: TextIO | None = None) -> bool:
        out = stream or sys.stderr
        return bool(getattr(out, "isatty", lambda: False)())

    def __enter__(self) -> RowProgress:
        if self.wanted(self.stream):
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=self.total)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def note(self, line: str) -> None:
        """One line for a person (a failed row): above the bar, or plainly on the stream."""
        if self._progress is not None:
            from rich.markup import escape

            self._progress.console.print(escape(line), highlight=False, soft_wrap=True)
        else:
            print(line, file=self.stream, flush=True)
