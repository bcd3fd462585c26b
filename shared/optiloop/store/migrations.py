"""What every store's migration runner shares: the refusal of a downgrade that would lose data.

The runners themselves live with their adapters (`store/sqlite/schema.py`, `store/dynamodb/formats.py`)
because what a step is differs: a transaction of SQL statements on one file, a resumable pass of
conditional writes over a DynamoDB table. docs/migrations.md describes both.
"""

from __future__ import annotations


class DataLossRefused(RuntimeError):
    """A downgrade would drop data the older version cannot hold; nothing was changed.

    Raised before the first step runs, so a refused downgrade never stops half-way. Pass
    ``allow_data_loss=True`` (CLI: ``--allow-data-loss``) once the listed data may go.
    """

    def __init__(self, target: int, losses: list[str]) -> None:
        self.target = target
        self.losses = losses
        super().__init__(
            f"migrating down to version {target} would lose data: {'; '.join(losses)}. "
            "Nothing was changed; pass allow_data_loss (--allow-data-loss) to go ahead."
        )
