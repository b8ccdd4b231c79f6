"""The run folder: summary.json, Parquet tables, the effective scenario, plots.

Layout of ``<root>/<scenario name>/<run id>/``:

* ``summary.json``  the stable, deterministic result (same scenario and seed ->
  byte-identical file), the input of QoS checks and of sweep comparisons;
* ``tables/<name>.parquet``  per-event and sampled tables, prefixed with the
  columns ``run_id``, ``seed`` and ``scenario`` so that tables of many runs can
  be concatenated (e.g. by a glob in DuckDB or pandas) and still be told apart;
* ``scenario.yaml``  the scenario as run, after overrides and defaults, so a
  result can be reproduced without the command line that made it;
* ``run.json``  facts about the execution (wall time, versions, timestamp):
  kept apart because they differ on every run and would break byte-identity;
* ``plots/*.png``.

Writing is atomic.  Everything goes to a hidden sibling directory first, which
is then renamed into place.  A crash, error or Ctrl-C at any moment leaves
either the previous complete folder or the new complete folder, never a mix:
a reader (a sweep collecting results, a CI job) can trust any folder it sees.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from sim.run.records import LazyTable, table_batches

if TYPE_CHECKING:
    from sim.run.builder import RunOutput

__all__ = ["read_summary", "run_folder", "table_of", "write_folder", "write_run"]

SUMMARY = "summary.json"
_VERSIONED = ("edgestream", "numpy", "scipy", "simpy", "pyarrow", "pydantic", "matplotlib",
              "networkx", "pyyaml", "rich")


def run_folder(root: Path, scenario: str, run_id: str) -> Path:
    """Where :func:`write_run` puts a run: ``root/<scenario>/<run_id>``."""
    return Path(root) / scenario / run_id


# ------------------------------------------------------------------- summary.json


def _jsonable(value: Any) -> Any:
    """Plain JSON values: NaN and infinities become null, numpy scalars Python ones.

    Strict JSON has no NaN; writing it would make the file unreadable for most
    non-Python tools, and null already means "no data" in the summary.
    """
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dump_json(data: Any) -> str:
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def read_summary(path: Path | str) -> dict[str, Any]:
    """The summary of a run: ``path`` is a run folder or its summary.json."""
    path = Path(path)
    if path.is_dir():
        path = path / SUMMARY
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a run summary (top level is not an object)")
    return data


# ----------------------------------------------------------------------- tables


def _column(values: np.ndarray) -> pa.Array:
    """One numpy column as Arrow; strings dictionary-encoded (few distinct labels)."""
    if _is_text(values):
        array = pa.array(values, type=pa.string()) if len(values) else pa.array([], pa.string())
        return array.dictionary_encode()
    return pa.array(values)


def _constant(value: str, n: int) -> pa.Array:
    """A column holding one string n times, stored as a one-entry dictionary."""
    indices = pa.array(np.zeros(n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array([value], pa.string()))


def table_of(output: RunOutput, name: str) -> pa.Table:
    """Table `name` of the run as Arrow, with the run_id, seed and scenario columns first.

    Built from arrays, not from a DataFrame, so the file carries no pandas
    metadata and its bytes depend on the data only.  Float NaN (a time not
    reached) is kept as NaN, as in memory.  A table kept on disk while the run
    ran (sim.run.records) is read whole here; the writer streams it instead.
    """
    return _arrow_table(output, name, output.tables[name])


def _arrow_table(output: RunOutput, name: str, columns: Mapping[str, Any],
                 dictionaries: Mapping[str, pa.Array] | None = None) -> pa.Table:
    """Some rows of table `name` (all of them or one row group) as Arrow; string
    columns in `dictionaries` are encoded with the given dictionary."""
    n = len(next(iter(columns.values()))) if columns else 0
    scn = output.scenario
    arrays: dict[str, pa.Array] = {
        "run_id": _constant(output.run_id, n),
        "seed": pa.array(np.full(n, scn.seed, dtype=np.int64)),
        "scenario": _constant(scn.name, n),
    }
    for key, values in columns.items():
        if key in arrays:
            raise ValueError(f'table "{name}" has a reserved column "{key}"')
        if len(values) != n:
            raise ValueError(f'table "{name}": column "{key}" has {len(values)} rows, not {n}')
        column = np.asarray(values)
        if dictionaries is not None and key in dictionaries and _is_text(column):
            dictionary = dictionaries[key]
            indices = pc.index_in(pa.array(column, type=pa.string()), value_set=dictionary)
            arrays[key] = pa.DictionaryArray.from_arrays(indices.cast(pa.int32()), dictionary)
        else:
            arrays[key] = _column(column)
    return pa.table(arrays)


_PARQUET: dict[str, Any] = {"compression": "zstd", "use_dictionary": True,
                            "write_statistics": True}
_ROW_GROUP = 1 << 20


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Deterministic Parquet: fixed codec and row groups, no wall-clock metadata."""
    pq.write_table(table, path, row_group_size=_ROW_GROUP, **_PARQUET)


def _write_table(output: RunOutput, name: str, path: Path) -> None:
    """Write table `name`; a table kept on disk (sim.run.records) streams in, row group
    by row group, and is never loaded whole.

    The streamed file is the one the whole table would give, byte for byte: its
    rows are cut into the same row groups, and each string column is encoded with
    the dictionary of the whole column (its values in order of first appearance,
    found in a first pass over the row groups)."""
    columns = output.tables[name]
    if not isinstance(columns, LazyTable):
        _write_parquet(table_of(output, name), path)
        return
    dictionaries = _dictionaries(columns)
    writer: pq.ParquetWriter | None = None
    try:
        for part in _regrouped(table_batches(columns), _ROW_GROUP):
            table = _arrow_table(output, name, part, dictionaries)
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, **_PARQUET)
            writer.write_table(table, row_group_size=_ROW_GROUP)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:  # no row groups at all
        _write_parquet(_arrow_table(output, name, {k: np.zeros(0) for k in columns}), path)


def _is_text(values: np.ndarray) -> bool:
    return values.dtype == object or values.dtype.kind in "US"


def _dictionaries(table: LazyTable) -> dict[str, pa.Array]:
    """Each string column's distinct values in order of first appearance, as
    ``dictionary_encode`` of the whole column would order them."""
    seen: dict[str, dict[str, None]] = {}
    for part in table_batches(table):
        for key, values in part.items():
            column = np.asarray(values)
            if not _is_text(column) or not len(column):
                continue
            first = pa.array(column, type=pa.string()).dictionary_encode().dictionary
            seen.setdefault(key, {}).update(dict.fromkeys(first.to_pylist()))
    return {key: pa.array(list(values), pa.string()) for key, values in seen.items()}


def _regrouped(parts: Iterator[dict[str, np.ndarray]], size: int,
               ) -> Iterator[dict[str, np.ndarray]]:
    """The same rows in parts of `size` rows (the last may be shorter)."""
    held: list[dict[str, np.ndarray]] = []
    rows = 0
    for part in parts:
        n = len(next(iter(part.values()))) if part else 0
        if n == 0:
            continue
        held.append(part)
        rows += n
        while rows >= size:
            joined = {k: np.concatenate([p[k] for p in held]) for k in held[0]}
            yield {k: v[:size] for k, v in joined.items()}
            rest = {k: v[size:] for k, v in joined.items()}
            rows -= size
            held = [rest] if rows else []
    if held:
        yield {k: np.concatenate([p[k] for p in held]) for k in held[0]}


# ----------------------------------------------------------------------- run.json


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for package in _VERSIONED:
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def _run_facts(output: RunOutput, *, tables: bool, plots: bool) -> dict[str, Any]:
    return {
        "run_id": output.run_id,
        "scenario": output.scenario.name,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stats": dict(output.stats),
        "versions": _versions(),
        "platform": platform.platform(),
        "argv": list(sys.argv),
        "outputs": {"tables": tables, "plots": plots},
    }


# ------------------------------------------------------------------- the writer


def _fill(folder: Path, output: RunOutput, *, tables: bool, plots: bool) -> None:
    """Write every file of the run into `folder` (an empty, private directory)."""
    (folder / SUMMARY).write_text(_dump_json(output.summary), encoding="utf-8")
    scenario = output.scenario.model_dump(mode="json", by_alias=True)
    (folder / "scenario.yaml").write_text(
        yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True), encoding="utf-8")
    if tables and output.tables:
        (folder / "tables").mkdir()
        for name in output.tables:
            _write_table(output, name, folder / "tables" / f"{name}.parquet")
    if plots:
        from sim.plots.figure import write_plots  # matplotlib is slow to import; only when asked

        write_plots(output, folder / "plots")
    (folder / "run.json").write_text(
        _dump_json(_run_facts(output, tables=tables, plots=plots)), encoding="utf-8")


def _swap_in(staged: Path, target: Path, aside: Path) -> None:
    """Rename `staged` to `target`; a previous `target` survives until that succeeded.

    ``os.replace`` cannot replace a non-empty directory, so an existing run is
    first renamed aside and put back if the new one cannot be moved in.
    """
    if not target.exists():
        staged.replace(target)
        return
    target.replace(aside)
    try:
        staged.replace(target)
    except BaseException:
        if not target.exists():
            aside.replace(target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def write_run(output: RunOutput, root: Path, *, tables: bool = True, plots: bool = True) -> Path:
    """Write the run folder ``root/<scenario>/<run_id>`` atomically; returns its path.

    An existing folder of the same run id (the same scenario and seed run
    again) is replaced only once the new one is complete.
    """
    target = run_folder(root, output.scenario.name, output.run_id)
    return write_folder(target, lambda folder: _fill(folder, output, tables=tables, plots=plots))


def write_folder(target: Path, fill: Callable[[Path], None]) -> Path:
    """Make `target` a folder that `fill` filled, all at once: `fill` writes into a
    private staging folder, which replaces `target` only when complete.  On any
    exception or KeyboardInterrupt the partial files are removed, a previous
    `target` is kept, and the exception re-raised."""
    parent = target.parent
    created_parent = not parent.exists()
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(parent, target.name)
    pid = os.getpid()
    staged = parent / f".{target.name}.tmp-{pid}"
    aside = parent / f".{target.name}.old-{pid}"
    try:
        staged.mkdir()
        fill(staged)
        _swap_in(staged, target, aside)
    except BaseException:
        # A second Ctrl-C during cleanup must not leave the staged directory behind.
        with contextlib.suppress(BaseException):
            shutil.rmtree(staged, ignore_errors=True)
        if aside.exists():
            if target.exists():  # interrupted while deleting the replaced run
                with contextlib.suppress(BaseException):
                    shutil.rmtree(aside, ignore_errors=True)
            else:
                aside.replace(target)
        if created_parent:  # only if still empty: a failed write leaves no empty folder
            with contextlib.suppress(OSError):
                parent.rmdir()
        raise
    return target


def _remove_stale_staging(parent: Path, writing: str) -> None:
    """Staging folders of processes that died mid-write (SIGKILL): their pid is in the
    name.  A set-aside ``.old-`` folder is the last complete run if nothing replaced
    it, so it returns; everything else of a dead pid is removed, and so is ours for the
    folder being written (a predecessor with our pid was killed while writing it)."""
    for entry in parent.iterdir():
        name, dot, rest = entry.name.rpartition(".")
        kind, dash, pid_text = rest.partition("-")
        if not (entry.name.startswith(".") and dot and dash and kind in ("tmp", "old")
                and pid_text.isdigit()):
            continue
        pid = int(pid_text)
        ours = pid == os.getpid()
        if (ours and name[1:] != writing) or (not ours and _alive(pid)):
            continue
        target = parent / name[1:]
        if kind == "old" and not target.exists():
            entry.replace(target)
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether a process with this pid runs (pid reuse errs on the side of keeping)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True
