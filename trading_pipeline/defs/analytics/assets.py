"""Analytics: a Parquet snapshot of the ledger, and the dbt models built on it (daily P&L, trades)."""

import hashlib
import importlib.metadata
import os
import shutil
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from trading_pipeline.defs.partitions import session_partitions
from trading_pipeline.defs.resources import LedgerResource
from trading_pipeline.settings import EnvSettings

#: The dbt project: next to the package in a source checkout, or TRADING_DBT_PROJECT_DIR when installed.
DBT_PROJECT_DIR = Path(
    os.environ.get("TRADING_DBT_PROJECT_DIR", Path(__file__).resolve().parents[3] / "dbt_project")
)
MONEY_TYPE = pa.decimal128(18, 4)

#: The dbt installed next to this interpreter, so an un-activated virtualenv still finds it.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

#: What dbt generates inside a project it runs in (target, logs, packages): not part of the project.
DBT_GENERATED_DIRS = frozenset({"target", "logs", "dbt_packages"})


def dbt_artifacts_dir() -> Path:
    """Where dbt writes its target paths and logs: <data dir>/dbt, never the source tree."""
    return EnvSettings().data_dir.resolve() / "dbt"


def project_fingerprint(project_dir: Path) -> str:
    """A digest of the dbt project's files and dbt's version: a manifest is reused only while it holds."""
    digest = hashlib.sha256(importlib.metadata.version("dbt-core").encode())
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and relative.parts[0] not in DBT_GENERATED_DIRS:
            digest.update(f"\0{relative}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=dbt_artifacts_dir() / "target" / f"manifest-{project_fingerprint(DBT_PROJECT_DIR)}",
)


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)


def parse_manifest() -> None:
    """`dbt parse` (~5 s) into a staging directory renamed into place, so no reader sees half a manifest."""
    target = dbt_project.manifest_path.parent
    staging = target.with_name(f"{target.name}.parsing-{os.getpid()}")
    log_path = dbt_artifacts_dir() / "logs"
    try:
        dbt_resource().cli(["parse", "--log-path", str(log_path)], target_path=staging).wait()
        staging.rename(target)
    except OSError:
        if not dbt_project.manifest_path.exists():
            raise
        # else another process parsed the same project first, and its manifest is the same
    finally:
        shutil.rmtree(staging, ignore_errors=True)


if not dbt_project.manifest_path.exists():  # first import of this version of the dbt project
    parse_manifest()


class SnapshotDirResource(dg.ConfigurableResource):
    """Where the ledger snapshot's Parquet files go (dbt's sources read them from there)."""

    path: str


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Arrow table with Decimal columns as decimal(18,4) and JSON-like columns as text."""
    arrays = {}
    for column in frame.columns:
        values = frame[column]
        sample = values.dropna()
        first = sample.iloc[0] if not sample.empty else None
        if isinstance(first, Decimal):
            arrays[column] = pa.array(values.astype(object).where(values.notna(), None), type=MONEY_TYPE)
        elif isinstance(first, dict | list | tuple):
            arrays[column] = pa.array(values.map(str), type=pa.string())
        else:
            arrays[column] = pa.array(values.astype(object).where(values.notna(), None))
    return pa.table(arrays) if arrays else pa.table({})


#: Ledger tables written by the snapshot; each is its own asset so dbt sources map one to one.
SNAPSHOT_TABLES = (
    "decisions",
    "order_intents",
    "orders",
    "order_events",
    "order_steps",
    "fills",
    "positions",
    "position_marks",
    "stale_marks",
    "iv_observations",
    "reconciliation_breaks",
    "stock_lots",
)
SNAPSHOT_PREFIX = "ledger_snapshot"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            [SNAPSHOT_PREFIX, table],
            group_name="analytics",
            kinds={"parquet"},
            deps=["portfolio_pnl"],
            description=f"Parquet snapshot of the ledger's {table} table.",
        )
        for table in SNAPSHOT_TABLES
    ],
    partitions_def=session_partitions,
    name="ledger_snapshot",
)
def ledger_snapshot(
    context: dg.AssetExecutionContext, ledger: LedgerResource, snapshot_dir: SnapshotDirResource
) -> Iterator[dg.MaterializeResult]:
    """Write every ledger table to Parquet (money as decimal) for dbt, after the session's run."""
    target = Path(snapshot_dir.path)
    target.mkdir(parents=True, exist_ok=True)
    tables = ledger.ledger().snapshot()
    for name in SNAPSHOT_TABLES:
        frame = tables[name]
        pq.write_table(to_arrow(frame), target / f"{name}.parquet")
        context.log.debug(f"wrote {len(frame)} rows of {name}")
        yield dg.MaterializeResult(
            asset_key=[SNAPSHOT_PREFIX, name],
            metadata={"rows": len(frame), "path": str(target / f"{name}.parquet")},
        )


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def dbt_analytics(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """dbt models over the ledger snapshot (daily P&L, trades, strategy performance) with their tests.

    Every build reuses one target directory under the data dir (builds cannot overlap: DuckDB has one writer).
    """
    artifacts = dbt_artifacts_dir()
    build = dbt.cli(
        ["build", "--log-path", str(artifacts / "logs")],
        context=context,
        target_path=artifacts / "target" / "build",
    )
    yield from build.stream()
