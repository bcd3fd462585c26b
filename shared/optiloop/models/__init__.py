"""Models: the lifecycle every learning capability uses — train, register, deploy, predict, monitor.

Map (one module per concern; the HTTP routers live in `optiloop.api.routers`):

    records.py      the records (training job, model, model version) and their documents
    artifact.py     the portable artifact: a model.tar.gz with `optiloop-model.json` + the model file
    signature.py    input/output schema of a version: validates instances, encodes them as features
    runtimes/       in-process predictors per portable format (`trees` numpy evaluator, `onnx`)
    training/       the training port and its adapters (local subprocess, SageMaker via boto3), jobs
    registry/       models, immutable versions, aliases/stages with history, cards, lineage
    serving/        model deployments (canary/blue-green/shadow splits), inference, serving metrics
    monitoring/     drift and performance monitors, alerts, retraining triggers

Nothing here imports scikit-learn, xgboost or torch: those live in `training_jobs/` and run as
training jobs (a subprocess locally, SageMaker on AWS); a trained model reaches the serving path as
a portable artifact that numpy (or onnxruntime) evaluates.
"""
