"""Deleting an ingested table (`DELETE /v1/datasets/{id}`): soft, audited, refused while in use.

Kept apart from `datasets` (ingest and reads) because deleting reaches across to experiments: a table
an AutoML experiment is queued or running on is refused with a 409, since its trials read the table
when they start. The table's blob stays: finished experiments, trials and lineage name it.
"""

from __future__ import annotations

from optiloop.audit.trail import record
from optiloop.auth.principal import Principal
from optiloop.auth.roles import Action, authorize
from optiloop.automl.datasets import KIND
from optiloop.deletion import gone, is_deleted, tombstone
from optiloop.deps import Deps
from optiloop.errors import Conflict

ACTIVE_EXPERIMENT_STATES = ("queued", "running")  # optiloop.automl.experiments.ACTIVE
EXPERIMENT_KIND = "experiment"  # optiloop.automl.experiments.KIND (that module imports the search stack)


def delete_table_dataset(deps: Deps, who: Principal, dataset_id: str) -> None:
    """Soft delete (optiloop.deletion) in one transaction with its audit record."""
    with deps.store.transaction():
        doc = deps.store.docs.require(KIND, dataset_id, field="dataset_id", what="tabular dataset")
        project_id = doc.data["project_id"]
        authorize(who, Action.PROMPT_DELETE, project_id)
        if is_deleted(doc):
            raise gone("tabular dataset", dataset_id, "dataset_id", doc.data["deleted_at"])
        busy = [
            e.id
            for e in deps.store.docs.list(EXPERIMENT_KIND, project_id, limit=1000)
            if e.data.get("dataset_id") == dataset_id and e.data.get("status") in ACTIVE_EXPERIMENT_STATES
        ]
        if busy:
            raise Conflict(
                f"experiment '{busy[0]}' is running on tabular dataset '{dataset_id}'",
                details=[
                    {"field": "dataset_id", "reason": "in use", "hint": "cancel or wait for the experiment"}
                ],
            )
        deps.store.docs.replace(tombstone(doc, who, deps.clock()), doc.rev)
        record(
            deps,
            who,
            "dataset.deleted",
            project_id,
            dataset_id,
            {"kind": "table", "name": doc.data.get("name")},
        )
