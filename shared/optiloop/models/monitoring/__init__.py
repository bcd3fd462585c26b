"""Monitoring of deployed models (aiml024 FR-011): drift on inputs and predictions, performance decay
once labels arrive, alerts with severity, and retraining requests that end in an approval.

SageMaker Model Monitor is closed to new customers: these monitors are the product, and they run on
the serving path's dependencies only (numpy; no scipy), in the monitors Lambda on AWS and in
`optiloop serve`'s in-process scheduler locally.

Map:

    stats.py        KS (statistic, asymptotic p-value), PSI, KL, JS; bins and quantile edges
    baseline.py     reference distributions: the training baseline or a reference window
    drift.py        one drift measurement (a reference, current values, a metric)
    performance.py  AUC, accuracy, RMSE, MAE on labelled traffic; which direction is worse
    records.py      monitor, alert, label and run documents (kinds, scopes, sorts)
    targets.py      what a monitor watches: the deployment, its version, signature and baseline
    captures.py     the served rows of a window (minutes or rows), and labels joined to them
    monitors.py     create / list / get monitors (validated against the version's signature)
    evaluate.py     run one monitor now: measure, record the run, move the alert
    alerts.py       one open alert per monitor, resolved when back under threshold; acknowledge
    notify.py       where alerts go: the notifier port (SNS on AWS) and the metric log line
    retrain.py      a breached monitor's retraining request (audit + request doc, never a promotion)
    feedback.py     labels for served predictions (POST /v1/deployments/{id}/feedback)
    schedule.py     run every monitor that is due (EventBridge -> functions/monitors; locally a thread)

The training baseline — `baseline.json` in the artifact (manifest `"baseline_file"`, read by
`optiloop.models.artifact.Artifact.baseline`) — is one JSON object keyed by input name, in the
encoding of the signature (`Signature.encode`), plus the score under `"prediction"`:

    {"amount":  {"type": "numeric",  "edges": [e0, e1, ..., ek], "counts": [c0, ..., c(k-1)]},
     "country": {"type": "category", "counts": {"pt": 120, "pe": 80, "no": 0}},
     "vip":     {"type": "category", "counts": {"false": 150, "true": 50}},
     "prediction": {"type": "numeric", "edges": [...], "counts": [...]}}

* numeric inputs (`number`, `integer`): `edges` are the training sample's quantile edges (k + 1
  finite, non-decreasing numbers; `stats.quantile_edges`, 10 bins by default) and `counts[i]` the
  number of training values in bin i, where bin i is [e_i, e_(i+1)) and the two outer bins are
  open-ended (`stats.bin_index`); missing values are not counted.
* categorical inputs (`category`; `boolean` as the categories "false"/"true"): a count per category
  name as the signature lists it; a count under "__unseen__" (optional) is values outside the list.
* "prediction": the score the model served on the training rows — binary: the positive class's
  probability, regression: the value (numeric form); multiclass: the predicted class (category form,
  keyed by the class labels as strings).
* `{"inputs": {...}, "prediction": {...}}` (the inputs nested) is read the same way; use it when an
  input is itself named "prediction". Inputs missing from the baseline fall back to a reference
  window; malformed entries are skipped and reported on the monitor's run, never a 500.

`baseline.build_baseline(signature, x, outputs)` writes exactly this from encoded training rows
(numpy only): training scripts should call it rather than re-derive the bin convention.

Served data is read from the serving path's capture documents: kind `inference_capture`, scope
the deployment id, sort `f"{at}#{request_id}"`, data `{"deployment_id", "variant",
"model_version_id", "at", "request_id", "features": [[...]], "outputs": [[...]], "keys": [...]}`
(features encoded as above, NaN for missing, columns in the signature's input order).
"""
