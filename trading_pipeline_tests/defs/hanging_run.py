"""A child process that starts a run tagged with its host and pid, then hangs until it is killed.

Usage: python -m trading_pipeline_tests.defs.hanging_run <dagster instance directory>
"""

import sys
import time

import dagster as dg

from trading_pipeline.defs.run_health import process_tags

#: Printed once the run is STARTED in the instance, so the parent knows when to kill.
STARTED = "run started"


@dg.op
def hang(context: dg.OpExecutionContext) -> None:
    print(f"{STARTED} {context.run_id}", flush=True)
    time.sleep(600)


@dg.job
def hanging_job() -> None:
    hang()


if __name__ == "__main__":
    hanging_job.execute_in_process(instance=dg.DagsterInstance.local_temp(sys.argv[1]), tags=process_tags())
