"""AutoML: tabular datasets, experiments (seeded Optuna search over a small model portfolio with
k-fold CV), and each trial's refit model exported to a portable artifact the registry accepts.

    datasets.py     ingest an upload (CSV, JSON Lines, Parquet when pyarrow is installed) or a
                    connector's file or query into a table: the pipeline and its storage
    connectors/     folder, S3 and SQL sources: records (credentials as secret refs), bounded reads
    ingest_spec.py  a dataset's spec (source, target, expectations, PII policy, ordinal levels)
    expectations.py declared expectations, checked on every ingest
    leakage.py      columns that predict the target almost perfectly by themselves
    ordinal.py      ordinal columns: declared or recognised levels
    pii_columns.py  the PII scan of string columns and mask/hash/drop before storage
    table.py        the stored table (`optiloop.table/1`, columnar npz) and its content fingerprint
    parse.py        bytes -> raw columns, refusing ragged rows by line
    infer.py        column types and the data quality report
    features.py     a table + target -> feature matrix, labels and the serving signature
    experiments.py  experiment and trial records, the use cases behind /v1/experiments
    worker.py       the bounded local worker pool that runs experiments in the background
    search/         the portfolio, cross-validation and the Optuna loop (scikit-learn, xgboost:
                    imported only by the worker, never by the HTTP path)
    export/         fitted estimators -> `optiloop.linear/1` and `optiloop.trees/1` artifacts
"""
