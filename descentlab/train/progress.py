"""Progress output of training: a rich bar on a terminal, throttled plain lines otherwise, or
nothing; and one epoch's numbers as a line of text."""

from __future__ import annotations

import sys
from typing import Any

VERBOSE_MODES = ("auto", "bar", "lines", "none")


def resolve_verbose(mode: str) -> str:
    """``"auto"`` → ``"bar"`` on a terminal with rich installed, else ``"lines"``; others as is."""
    if mode not in VERBOSE_MODES:
        raise ValueError(f"verbose must be one of {', '.join(VERBOSE_MODES)} (got {mode!r})")
    if mode == "auto":
        return "bar" if sys.stderr.isatty() and _has_rich() else "lines"
    return mode



class ProgressReporter:
    """Progress output: a rich bar on a terminal, throttled plain lines otherwise, or nothing."""

    def __init__(self, mode: str, first_epoch: int, last_epoch: int) -> None:
        mode = resolve_verbose(mode)
        self.mode, self.first, self.last = mode, first_epoch, last_epoch
        # About 20 lines per run, whatever the number of epochs: enough to see the trend.
        self.every = max(1, (last_epoch - first_epoch + 1) // 20)
        self._progress: Any = None
        if mode == "bar":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("epoch"), MofNCompleteColumn(), BarColumn(), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(), TextColumn("{task.fields[metrics]}"),
                console=Console(stderr=True))
            self._task = self._progress.add_task("train", total=last_epoch,
                                                 completed=first_epoch - 1, metrics="")
            self._progress.start()

    def epoch(self, record: dict[str, Any]) -> None:
        text = format_record(record)
        if self.mode == "bar":
            self._progress.update(self._task, completed=record["epoch"], metrics=text)
        elif self.mode == "lines":
            e = record["epoch"]
            if e == self.first or e == self.last or e % self.every == 0:
                print(f"epoch {e}/{self.last}  {text}", flush=True)

    def message(self, text: str) -> None:
        if self.mode == "bar":
            self._progress.console.print(text)
        elif self.mode == "lines":
            print(text, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None



def _has_rich() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True



def format_record(record: dict[str, Any]) -> str:
    """One epoch's numbers as ``loss 0.1234  accuracy 0.9500  ...`` (epoch and time left out)."""
    parts = []
    for key, value in record.items():
        if key in ("epoch", "time") or value is None:
            continue
        parts.append(f"{key} {value:.4g}" if key == "lr" else f"{key} {value:.4f}")
    return "  ".join(parts)
