"""AutoML scaled out on Step Functions: trials fan out as SageMaker training jobs from a Map state.

    Plan -> MoreTrials? --no--> Finalise -> Done
              | yes
              v
            RunTrials (Map over $.plan.trials, MaxConcurrency = the tenant's automl_max_concurrency)
              StartTrial -> WaitTrial -> CheckTrial -> TrialEnded? --running--> WaitTrial
              |                                          `--ended--> TrialDone
              v
            Record -> Plan ...                      (any step's error: RecordFailure -> Failed)

A forecasting or anomaly experiment takes the same path with one Map item: its whole search is one
training job (optiloop.automl.search_job), so the definition has no branch for it.

Every task is a LambdaInvoke of the experiment workflow's steps function (`{"step": "automl_*",
"state": $}`, optiloop.automl.fanout), so AutoML adds no function, role or log group of its own:
that function already starts and polls training jobs as the tenant's training role with the
least rights it needs (Functions.grant_training), and the executions log to the experiment
workflow's log group. A CloudFormation stack holds at most 500 resources and this one is near it;
this construct adds the state machine and its role (and the role's policy), nothing else.

Polling (StartTrial returns at once, Wait, CheckTrial asks SageMaker) rather than the `.sync`
integration, as the experiment workflow does: each call is an ordinary request-response call whose
IAM is visible, and moto can execute the machine. The loop ends when Plan says `done` (the trial
budget spent, the time budget out, or the experiment cancelled: the durable flag the API sets).
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra_cdk.nag import acknowledge_state_machine_role, acknowledge_wildcards
from infra_cdk.tenant import TenantConfig

NAME_SUFFIX = "automl"
TIMEOUT = Duration.days(7)  # the longest budget_s the API accepts
RUNNING = ("Pending", "InProgress", "Stopping")  # job statuses to keep polling (optiloop.models.records)
# what each Map item carries: the execution's identity and one planned trial
ITEM = {
    "experiment_id.$": "$.experiment_id",
    "project_id.$": "$.project_id",
    "started_by.$": "$.started_by",
    "poll_seconds.$": "$.poll_seconds",
    "trial.$": "$$.Map.Item.Value",
}


class AutomlWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        config: TenantConfig,
        steps: lambda_.IFunction,
        log_group: logs.ILogGroup,
    ) -> None:
        super().__init__(scope, cid)
        self.name = f"{config.prefix}-{NAME_SUFFIX}"
        self.max_concurrency = config.automl_max_concurrency

        def step(name: str, step_name: str, result: str) -> tasks.LambdaInvoke:
            return tasks.LambdaInvoke(
                self,
                name,
                lambda_function=steps,
                payload=sfn.TaskInput.from_object({"step": step_name, "state": sfn.JsonPath.object_at("$")}),
                payload_response_only=True,
                retry_on_service_exceptions=True,
                result_path=result,
            )

        failed = sfn.Fail(
            self, "Failed", error="AutomlFailed", cause="a step failed; see the experiment's error"
        )
        record_failure = step("RecordFailure", "automl_fail", "$.failed")
        record_failure.next(failed)

        plan = step("Plan", "automl_plan", "$.plan")
        start = step("StartTrial", "automl_start_trial", "$.job")
        wait = sfn.Wait(self, "WaitTrial", time=sfn.WaitTime.seconds_path("$.poll_seconds"))
        check = step("CheckTrial", "automl_check_trial", "$.job")
        ended = sfn.Choice(self, "TrialEnded")
        running = sfn.Condition.or_(*[sfn.Condition.string_equals("$.job.status", s) for s in RUNNING])
        ended.when(running, wait).otherwise(sfn.Succeed(self, "TrialDone"))
        start.next(wait)
        wait.next(check)
        check.next(ended)

        run_trials = sfn.Map(
            self,
            "RunTrials",
            items_path="$.plan.trials",
            max_concurrency=self.max_concurrency,
            item_selector=ITEM,
            result_path="$.batch",
            comment="one SageMaker training job per planned trial",
        )
        run_trials.item_processor(start)
        record = step("Record", "automl_record", "$.progress")
        finalise = step("Finalise", "automl_finalise", "$.final")
        more = sfn.Choice(self, "MoreTrials")
        more.when(sfn.Condition.boolean_equals("$.plan.done", True), finalise).otherwise(run_trials)
        plan.next(more)
        run_trials.next(record)
        record.next(plan)
        finalise.next(sfn.Succeed(self, "Done"))
        for state in (plan, run_trials, record, finalise):
            state.add_catch(record_failure, errors=["States.ALL"], result_path="$.failure")
        # Lambda's throttling and transient errors are retried by retry_on_service_exceptions; a
        # step's own error (a missing experiment, a refused job) goes to RecordFailure at once

        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=self.name,  # one literal ARN pattern for the API's rights
            definition_body=sfn.DefinitionBody.from_chainable(plan),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment=f"OptiLoop {config.tenant}: AutoML trials fanned out as SageMaker training jobs",
        )
        acknowledge_state_machine_role(self.state_machine.role, steps)

    def grant_image(self, training_role: iam.IRole, steps: lambda_.Function, image: str) -> None:
        """Trial jobs run on the tenant's OptiLoop image (`automl_image`): the training role may pull
        that one repository (and get the registry token, which has no resource), and the steps
        function names it to SageMaker (OPTILOOP_AUTOML_IMAGE, optiloop.models.training.images)."""
        steps.add_environment("OPTILOOP_AUTOML_IMAGE", image)
        host, _, path = image.partition("/")
        account, region = host.split(".")[0], host.split(".")[3]
        repo = path.split("@")[0].split(":")[0]
        arn = f"arn:{Stack.of(self).partition}:ecr:{region}:{account}:repository/{repo}"
        training_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources=[arn])
        )
        training_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"])
        )

    def grant_run(self, fn: lambda_.Function) -> None:
        """What `POST /v1/experiments/{id}/run|resume` takes on AWS: start executions of this state
        machine and read their status, nothing else. The ARN and the batch size (the Map's
        concurrency) reach optiloop.automl.worker as environment."""
        assert fn.role is not None
        stack = Stack.of(self)
        self.state_machine.grant_start_execution(fn)
        executions = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:{self.name}:*"
        fn.add_to_role_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
        )
        fn.add_environment("OPTILOOP_AUTOML_RUNNER", "stepfunctions")
        fn.add_environment("OPTILOOP_AUTOML_STATE_MACHINE_ARN", self.state_machine.state_machine_arn)
        fn.add_environment("OPTILOOP_AUTOML_BATCH", str(self.max_concurrency))
        acknowledge_wildcards(
            fn.role,
            [f"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{self.name}:*"],
            "Executions are named by the platform (<experiment id>-<n>) under the one AutoML state "
            "machine: the state machine's name is the scope.",
        )
