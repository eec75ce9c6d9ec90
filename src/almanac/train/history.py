"""The per-epoch history: rows kept in memory and in the checkpoint, mirrored to ``history.csv``.

Each finished epoch appends one row to the CSV, flushed and fsynced. The checkpoint holds the same rows, so on
resume :meth:`History.write` rewrites the CSV atomically from the checkpoint: a row written after the last
checkpoint (a crash between the two writes) or a half-written line is dropped, and its epoch runs again. Rows are
never duplicated or lost.

>>> h = History([{"epoch": 1, "train_loss": 0.5}, {"epoch": 2, "train_loss": 0.25}])
>>> h.column("train_loss"), h.last["epoch"]
([0.5, 0.25], 2)
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from almanac.train.files import atomic_write_text

__all__ = ["History", "read_csv"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


class History(list):
    """A list of per-epoch rows (dicts of column → value), oldest first."""

    def __init__(self, rows: Iterable[dict[str, Any]] = ()):
        super().__init__(dict(r) for r in rows)

    @property
    def columns(self) -> list[str]:
        """Column names in first-seen order."""
        seen: dict[str, None] = {}
        for row in self:
            seen.update(dict.fromkeys(row))
        return list(seen)

    @property
    def last(self) -> dict[str, Any]:
        """The newest row (empty before the first epoch ends)."""
        return self[-1] if self else {}

    def column(self, name: str) -> list[Any]:
        """Values of one column, one per epoch (``nan`` where an epoch lacks it)."""
        return [row.get(name, math.nan) for row in self]

    def _lines(self, rows: Iterable[dict[str, Any]], columns: list[str]) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in rows:
            writer.writerow([_fmt(row.get(c, math.nan)) for c in columns])
        return out.getvalue()

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the whole history to ``path`` atomically (used on resume)."""
        columns = self.columns
        header = ",".join(columns) + "\n" if columns else ""
        atomic_write_text(path, header + self._lines(self, columns))

    def append_to(self, path: str | os.PathLike[str]) -> None:
        """Append the newest row to ``path`` (with a header if the file is new), flushed and fsynced."""
        path = Path(path)
        columns = self.columns
        new = not path.exists() or path.stat().st_size == 0
        with path.open("a", encoding="utf-8", newline="") as f:
            if new:
                f.write(",".join(columns) + "\n")
            f.write(self._lines([self.last], columns))
            f.flush()
            os.fsync(f.fileno())


def read_csv(path: str | os.PathLike[str]) -> History:
    """Read a ``history.csv`` back (numbers as ``int`` or ``float``)."""
    rows = []
    with Path(path).open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.append({k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()})
    return History(rows)
