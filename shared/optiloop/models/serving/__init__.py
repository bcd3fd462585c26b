"""Model serving: deployments with canary/blue-green/shadow splits, inference, and its metrics.

    records.py      the deployment record (`model_deployment` docs), the batch job record
    deployments.py  deploy / promote / rollback / automatic rollback; production takes Approved only
    split.py        OptiLoop's own traffic router: sticky per key (a hash), random without one
    cache.py        the process-wide LRU of loaded predictors, keyed by the artifact's sha256
    inference.py    one predict call: validate against the signature, route, predict, answer
    metrics.py      per-minute serving metrics (requests, errors, latency histogram) and SLO checks
    capture.py      a sample of served inputs/outputs (`inference_capture` docs) for drift monitors
    batch.py        batch scoring of a stored dataset as a job, predictions as JSON Lines in blobs
    endpoint.py     SageMaker real-time endpoints for `endpoint` models (boto3, imported lazily)

The hot path (inference, split, cache, metrics, capture) imports numpy and the runtimes only, so the
predict Lambda stays small; boto3 is imported only when a version's runtime is `endpoint`.
"""
