"""Record logs that leave memory while the run proceeds: typed columns in Parquet.

A table that grows with the simulated time (one row per frame, say) would keep
every row until the run ends.  A :class:`ColumnSpill` writes finished rows, in
chunks, as row groups of a Parquet file in the run's :class:`SpillFolder`, with a
fixed schema (name -> numpy dtype), and reads them back one column at a time or
one row group at a time.  A :class:`LazyTable` is a table whose columns are read
(or derived) when asked for; :func:`table_batches` walks any table in row groups,
so the results writer can stream one into its Parquet file without loading it.

Exactness: values go to Parquet and back unchanged (float64, int64, bool, no
lossy encoding), so what is computed from the columns after the run is what the
in-memory columns gave.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

__all__ = ["ChainedTable", "ColumnSpill", "LazyTable", "SpillFolder", "table_batches"]

Columns = Mapping[str, NDArray[Any]]

_ARROW = {np.dtype(np.float64): pa.float64(), np.dtype(np.int64): pa.int64(),
          np.dtype(np.bool_): pa.bool_()}


class SpillFolder:
    """A private folder for one run's record logs, removed with the run's output.

    It is removed when the last object holding it (the run, its output's tables)
    is gone, or at interpreter exit, whichever comes first; :meth:`remove` does it
    at once (e.g. when the run fails).
    """

    def __init__(self, parent: str | Path | None = None) -> None:
        self.parent = parent
        self.path: Path | None = None
        """Made on the first :meth:`file`: a run that spills nothing touches no disk."""
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._names = 0

    def file(self, stem: str) -> Path:
        """A new file path in the folder (unique per call)."""
        if self.path is None:
            if self.parent is not None:
                Path(self.parent).mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix="edgestream-spill-", dir=self.parent))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self.path, True)
        self._names += 1
        return self.path / f"{self._names:03d}-{stem}.parquet"

    def remove(self) -> None:
        """Remove the folder now (its logs can no longer be read)."""
        if self._finalizer is not None:
            self._finalizer()


class ColumnSpill:
    """Rows of fixed typed columns, written as Parquet row groups as they come."""

    def __init__(self, folder: SpillFolder, stem: str, schema: Mapping[str, Any]) -> None:
        self.folder = folder  # kept alive while this log is
        self.schema = {name: np.dtype(dtype) for name, dtype in schema.items()}
        self.path = folder.file(stem)
        self._arrow = pa.schema([(name, _ARROW[dt]) for name, dt in self.schema.items()])
        self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
            self.path, self._arrow, compression="none", use_dictionary=False,
            write_statistics=False)
        self.rows = 0

    def write(self, columns: Columns) -> None:
        """Append one row group (every column of the schema, the same length)."""
        if self._writer is None:
            raise RuntimeError("the log is closed")
        n = len(columns[next(iter(self.schema))])
        if n == 0:
            return
        arrays = [pa.array(np.asarray(columns[name], dtype=dt)) for name, dt in
                  self.schema.items()]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._arrow),
                                 row_group_size=n)
        self.rows += n

    def close(self) -> None:
        """No more rows: the file becomes readable."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    @property
    def closed(self) -> bool:
        return self._writer is None

    def column(self, name: str) -> NDArray[Any]:
        """One whole column, as numpy, of the schema's dtype."""
        self.close()
        out = np.empty(self.rows, dtype=self.schema[name])
        at = 0
        parquet = pq.ParquetFile(self.path)
        for i in range(parquet.num_row_groups):  # into place: one copy of the column
            part = parquet.read_row_group(i, columns=[name]).column(0).to_numpy()
            out[at:at + len(part)] = part
            at += len(part)
        return out

    def batches(self) -> Iterator[dict[str, NDArray[Any]]]:
        """Every column, one row group at a time."""
        self.close()
        parquet = pq.ParquetFile(self.path)
        for i in range(parquet.num_row_groups):
            group = parquet.read_row_group(i)
            yield {name: np.asarray(group.column(name).to_numpy(), dtype=dt)
                   for name, dt in self.schema.items()}


class LazyTable(Mapping[str, NDArray[Any]]):
    """A table whose columns are made when asked for, and that walks in row groups.

    `column(name)` makes one whole column; `batches()` yields the whole table a
    row group at a time (every column, the same rows).
    """

    def __init__(self, names: Sequence[str], column: Callable[[str], NDArray[Any]],
                 batches: Callable[[], Iterator[dict[str, NDArray[Any]]]]) -> None:
        self._names = list(names)
        self._column = column
        self._batches = batches

    def __getitem__(self, name: str) -> NDArray[Any]:
        if name not in self._names:
            raise KeyError(name)
        return self._column(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def batches(self) -> Iterator[dict[str, NDArray[Any]]]:
        return self._batches()


class ChainedTable(LazyTable):
    """Tables of the same columns one after the other (e.g. two workloads' frames)."""

    def __init__(self, parts: Sequence[Columns]) -> None:
        self.parts = list(parts)
        names = list(self.parts[0])

        def column(name: str) -> NDArray[Any]:
            return np.concatenate([part[name] for part in self.parts])

        def batches() -> Iterator[dict[str, NDArray[Any]]]:
            for part in self.parts:
                yield from table_batches(part)

        super().__init__(names, column, batches)


def table_batches(table: Columns) -> Iterator[dict[str, NDArray[Any]]]:
    """A table's rows in row groups: a lazy table's own, an in-memory table whole."""
    if isinstance(table, LazyTable):
        yield from table.batches()
    else:
        yield {name: np.asarray(values) for name, values in table.items()}
