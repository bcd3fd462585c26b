"""The experiment workflow: train -> evaluate -> register -> (approve) -> deploy.

    Prepare ─► StartTraining ─► WaitForTraining ─► CheckTraining ─► TrainingStatus
                                      ▲                                  │ Pending/InProgress/Stopping
                                      └──────────────────────────────────┘
    TrainingStatus: Completed ─► Evaluate ─► EvaluationGate ─► Register ─► AfterRegister
                    otherwise ─► RecordFailure ─► Failed        └► NotBetter (succeeds, nothing registered)
    AfterRegister:  deploy ─► Deploy ─► Done;  promote ─► Promote (staging) ─► Done
                    approve | approve_then_deploy ─► RequestApproval ─► AfterApprovalRequest
                    otherwise ─► Done
    AfterApprovalRequest: approve_then_deploy ─► WaitForApproval ─► CheckApproval ─► ApprovalStatus
                          otherwise ─► Done                    Approved ─► Deploy; Pending ─► wait again;
                                                               Rejected ─► NotApproved (succeeds)
    Prepare: NothingToTrain ─► Skipped (succeeds).  Any task error after its retries ─► RecordFailure.

Polling (a task that asks, a Wait, a Choice) rather than Step Functions' `.sync` integrations: every
call stays an ordinary request-response call whose IAM is visible, the local runner executes the same
loop, and moto can run it. A human approval is polled the same way (every `approval_poll_seconds`),
within the workflow's 7-day timeout; a version approved later can still be deployed by hand.
"""

from __future__ import annotations

from optiloop.workflows.definition import (
    ALL_ERRORS,
    Catch,
    Choice,
    Fail,
    Retry,
    Succeed,
    Task,
    Wait,
    Workflow,
)

NAME = "experiment"
TRANSIENT = ("TransientError", "ThrottlingException", "ServiceUnavailable")
FAIL = Catch(errors=(ALL_ERRORS,), next="RecordFailure")
RETRY_TRANSIENT = Retry(errors=TRANSIENT, max_attempts=4, interval_s=5, backoff=2)

EXPERIMENT = Workflow(
    name=NAME,
    start="Prepare",
    states={
        "Prepare": Task(
            step="prepare_experiment",
            next="StartTraining",
            result_key="experiment",
            catch=(Catch(errors=("NothingToTrain",), next="Skipped", result_key="skipped"), FAIL),
            comment="validate the request, resolve the model, decide the route after registering",
        ),
        "StartTraining": Task(
            step="start_training",
            next="WaitForTraining",
            result_key="training",
            retry=(RETRY_TRANSIENT,),
            catch=(FAIL,),
            comment="one training job per execution, however often the task is retried",
        ),
        "WaitForTraining": Wait(seconds_key="poll_seconds", default_s=60, next="CheckTraining"),
        "CheckTraining": Task(
            step="check_training",
            next="TrainingStatus",
            result_key="training",
            retry=(Retry(errors=(ALL_ERRORS,), max_attempts=3, interval_s=5, backoff=2),),
            catch=(FAIL,),
        ),
        "TrainingStatus": Choice(
            key="training",
            field="status",
            cases={
                "Completed": "Evaluate",
                "Pending": "WaitForTraining",
                "InProgress": "WaitForTraining",
                "Stopping": "WaitForTraining",
            },
            # Failed, Stopped, and any status a backend may add later: fail closed, never loop forever
            default="RecordFailure",
        ),
        "Evaluate": Task(step="evaluate", next="EvaluationGate", result_key="verdict", catch=(FAIL,)),
        "EvaluationGate": Choice(
            key="verdict", field="outcome", cases={"register": "Register"}, default="NotBetter"
        ),
        "NotBetter": Succeed(comment="the candidate did not pass the evaluation; nothing was registered"),
        "Register": Task(
            step="register_version",
            next="AfterRegister",
            result_key="version",
            retry=(RETRY_TRANSIENT,),
            catch=(FAIL,),
        ),
        "AfterRegister": Choice(
            key="experiment",
            field="route",
            cases={
                "deploy": "Deploy",
                "promote": "Promote",
                "approve": "RequestApproval",
                "approve_then_deploy": "RequestApproval",
            },
            default="Done",
        ),
        "RequestApproval": Task(
            step="request_approval",
            next="AfterApprovalRequest",
            result_key="review",
            retry=(RETRY_TRANSIENT,),
            catch=(FAIL,),
        ),
        "AfterApprovalRequest": Choice(
            key="experiment",
            field="route",
            cases={"approve_then_deploy": "WaitForApproval"},
            default="Done",
        ),
        "WaitForApproval": Wait(seconds_key="approval_poll_seconds", default_s=300, next="CheckApproval"),
        "CheckApproval": Task(
            step="check_approval",
            next="ApprovalStatus",
            result_key="review",
            retry=(Retry(errors=(ALL_ERRORS,), max_attempts=3, interval_s=5, backoff=2),),
            catch=(FAIL,),
        ),
        "ApprovalStatus": Choice(
            key="review",
            field="status",
            cases={"Approved": "Deploy", "PendingApproval": "WaitForApproval"},
            default="NotApproved",
        ),
        "Promote": Task(
            step="promote_version",
            next=None,
            result_key="promotion",
            retry=(RETRY_TRANSIENT,),
            catch=(FAIL,),
            comment="point the model's staging alias at the new version (production needs approval)",
        ),
        "NotApproved": Succeed(comment="the version was rejected; nothing was deployed"),
        "Deploy": Task(
            step="deploy", next=None, result_key="deployment", retry=(RETRY_TRANSIENT,), catch=(FAIL,)
        ),
        "Done": Succeed(),
        "Skipped": Succeed(comment="too few runs to train on yet"),
        "RecordFailure": Task(step="record_failure", next="Failed", result_key="failure_record"),
        "Failed": Fail(error="OptiLoop.WorkflowFailed", cause="see the failure recorded by RecordFailure"),
    },
)
EXPERIMENT.check()
