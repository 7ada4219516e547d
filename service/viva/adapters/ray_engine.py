"""`viva grade --engine ray`: the same grading on Ray Data, on one machine or a cluster.

Rows are read on the driver's node (the file need not be on the other nodes), stream through
`map_batches` to an actor pool, and come back to the driver in input order, where the CLI
writes them with the same writers as the default engine. Each actor builds its grader once,
through the composition root, and grades each batch with `viva.app.batch.grade_batch`: the
rules for validating, grading and formatting a row live there, not here.

This is the only module that imports ray (`pip install 'viva[ray]'`). Without RAY_ADDRESS it
starts a local Ray for the run; with it, it joins that cluster, whose nodes need viva
installed and the same settings' files (bank folders, calibration, model) at the same paths.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

import numpy as np
import ray
from ray.data import ActorPoolStrategy, DataContext
from ray.data.block import Block, BlockAccessor, BlockMetadata
from ray.data.datasource import Datasource, ReadTask

from viva.adapters.answer_files import RawRow
from viva.app.batch import GradedRow, grade_batch
from viva.domain.models import Bank
from viva.errors import VivaError
from viva.settings import Settings

RowSource = Callable[[], Iterable[RawRow]]


def _objects(items: list[Any]) -> np.ndarray:
    """A 1-D object column (np.array would turn sequences into extra dimensions)."""
    column = np.empty(len(items), dtype=object)
    column[:] = items
    return column


class _Rows(Datasource):
    """The input's rows, read by one task on the driver's node, one batch per block."""

    def __init__(self, rows: RowSource, batch_size: int) -> None:
        super().__init__()
        self._rows = rows
        self._batch_size = batch_size

    @property
    def supports_distributed_reads(self) -> bool:
        return False  # the input is a file on the driver's machine

    def estimate_inmemory_data_size(self) -> int | None:
        return None

    def get_read_tasks(
        self,
        parallelism: int,
        per_task_row_limit: int | None = None,
        data_context: DataContext | None = None,
    ) -> list[ReadTask]:
        meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
        return [ReadTask(self._read, meta, per_task_row_limit=per_task_row_limit)]

    def _read(self) -> Iterator[Block]:
        it = iter(self._rows())
        while raws := list(islice(it, self._batch_size)):
            yield BlockAccessor.batch_to_block({"raw": _objects(raws)})


class _GradeActor:
    """One grader per actor, built on the actor's first call, reused for every batch."""

    def __init__(self, bank_id: str, settings: Settings) -> None:
        from viva.composition import get_components

        parts = get_components(settings)
        self.bank = parts.banks.get(bank_id)
        self.max_chars = settings.max_answer_chars
        self.grader = parts.grader

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        graded = grade_batch(list(batch["raw"]), self.bank, self.grader, max_chars=self.max_chars)
        return {"graded": _objects(graded)}


def _viva_cause(exc: BaseException) -> VivaError | None:
    """The viva error (a bad setting, say) an actor raised, under Ray's wrappers."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, VivaError):
            return e
        todo += [e.__cause__, e.__context__, getattr(e, "cause", None)]
    return None


@contextmanager
def connected(cpus: int | None = None) -> Iterator[None]:
    """Ray for the run: the cluster at RAY_ADDRESS, else a local one (`cpus`: its size),
    shut down afterwards unless it was already running in this process."""
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=os.environ.get("RAY_ADDRESS") or None,
            num_cpus=None if os.environ.get("RAY_ADDRESS") else cpus,
            include_dashboard=False,
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def grade_chunks(
    rows: RowSource,
    bank: Bank,
    settings: Settings,
    *,
    batch_size: int = 128,
    actors: int | None = None,
) -> Iterator[list[GradedRow]]:
    """Every row of `rows()` graded, in input order, a batch at a time (call it inside
    `connected()`). `actors`: the pool's size (default: one per CPU of the cluster)."""
    ctx = DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False  # the CLI shows its own
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # the CLI's stderr is for row errors
    # Ray counts the read's one task, not the batches the cut makes of it: every actor works.
    warnings.filterwarnings("ignore", "The minimum number of concurrent actors", UserWarning)
    cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
    size = actors or cpus
    read = ray.data.read_datasource(_Rows(rows, batch_size), num_cpus=0, override_num_blocks=1)
    # The read coalesces its blocks; cut them back into the default engine's batches, so the
    # pool has work for every actor and each batch holds the rows it holds there. The cut's
    # tasks take a CPU, so the actors share the others (one each would starve the cut).
    cut = read.repartition(target_num_rows_per_block=batch_size, strict=True)
    ds = cut.map_batches(
        _GradeActor,
        fn_constructor_args=(bank.id, settings),
        batch_size=batch_size,
        batch_format="numpy",
        compute=ActorPoolStrategy(size=size),
        num_cpus=(cpus - 1) / size,
    )
    try:
        for batch in ds.iter_batches(batch_size=None, batch_format="numpy"):
            yield list(batch["graded"])
    except Exception as exc:
        cause = _viva_cause(exc)
        if cause is None:
            raise
        raise cause from None
