"""Fitted estimators -> portable model documents and the artifact the registry accepts.

linear.py    LogisticRegression / Ridge and their preprocessing -> `optiloop.linear/1`
sktrees.py   scikit-learn forests and HistGradientBoosting -> `optiloop.trees/1`
xgb.py       XGBoost boosters -> `optiloop.trees/1` (the training jobs' own exporter)
artifact.py  a document + signature + metrics -> `model.tar.gz` with its manifest
"""
