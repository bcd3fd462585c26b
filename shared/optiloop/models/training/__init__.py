"""Training: run `training_jobs/<entry_point>/train.py` on a backend and record what came of it.

    port.py          the Trainer port (submit, describe, stop, logs) and the JobSpec it runs
    local.py         adapter: one subprocess per job, SageMaker's folder layout under the data dir
    sagemaker.py     adapter: boto3 create/describe/stop_training_job and CloudWatch logs
    entry_points.py  what an entry point is, its job.json, and its source bundle (sourcedir.tar.gz)
    metrics.py       the `metric: name=value` convention, its parser and SageMaker MetricDefinitions
    prices.py        instance types, their hourly price, and a job's cost
    images.py        SageMaker framework images by framework and region
    channels.py      inputs (a golden-set dataset, a project's runs) materialised as channel files
    jobs.py          the use cases: create, get (refreshes), list, stop, logs
    factory.py       Settings -> a Trainer (the only place that picks an adapter)

The platform path imports none of xgboost, scikit-learn, torch or the sagemaker SDK: the scripts do,
in their own process (locally) or container (SageMaker).
"""
