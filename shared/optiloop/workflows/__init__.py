"""Experiment workflow steps and scheduled checks: core logic the Step Functions tasks and the
EventBridge target call (functions/ only parses events), and that a local runner can call as is."""
