"""Run-scoped outputs: each run (one tick) stores its asset values under its own run id.

Dagster's default IO manager keys values by asset and partition, so the 10:00 and 15:30 ticks of a
session overwrote and read each other's outputs. Here a value is only ever read by the run that
produced it (or by a re-execution of that run, which Dagster points at the parent run's id); the
ledger, not stored outputs, carries state from one tick to the next. Files are written atomically.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg


class MissingRunOutputError(dg.DagsterError):
    """An input whose value the reading run (or its parent run) never produced."""


class RunScopedIOManager(dg.ConfigurableIOManager):
    """Pickles each output under `<base_dir>/<run_id>/<asset key>.pickle`; see the module docstring."""

    base_dir: str

    def _path(self, run_id: str, key: dg.AssetKey) -> Path:
        return Path(self.base_dir, run_id, *key.path).with_suffix(".pickle")

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        path = self._path(context.run_id, context.asset_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as handle:
            pickle.dump(obj, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        key = context.asset_key
        run_id = upstream.run_id if upstream is not None else context.run_id
        path = self._path(run_id, key)
        if not path.exists():
            raise MissingRunOutputError(
                f"{key.to_user_string()} was not produced in run {run_id}: a tick only reads values it "
                "computed itself; materialize the upstream assets in the same run"
            )
        with path.open("rb") as handle:
            return pickle.load(handle)
