"""SageMaker framework images by framework and region (script mode; no SDK to look them up).

scikit-learn and XGBoost images live in a per-region AWS account; the PyTorch deep-learning
containers in 763104351884 in the commercial regions listed. A region missing here is a clear
error at submit; add its line (the accounts are in the SageMaker developer guide, "Docker Registry
Paths and Example Code").
"""

from __future__ import annotations

SKLEARN_XGB_ACCOUNTS: dict[str, str] = {
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-central-1": "492215442770",
    "ap-northeast-1": "354813040037",
    "ap-southeast-2": "783357654285",
}
DLC_ACCOUNT = "763104351884"
TAGS: dict[str, str] = {
    "sklearn": "sagemaker-scikit-learn:1.2-1-cpu-py3",
    "xgboost": "sagemaker-xgboost:1.7-1",
    "pytorch-cpu": "pytorch-training:2.1.0-cpu-py310",
    "pytorch-gpu": "pytorch-training:2.1.0-gpu-py310",
}


AUTOML_IMAGE_ENV = "OPTILOOP_AUTOML_IMAGE"


def image_uri(framework: str, region: str, *, gpu: bool = False) -> str:
    if framework == "optiloop":
        return optiloop_image()
    if region not in SKLEARN_XGB_ACCOUNTS:
        raise ValueError(f"no SageMaker {framework} image known for region {region!r}")
    if framework == "pytorch":
        tag = TAGS["pytorch-gpu" if gpu else "pytorch-cpu"]
        account = DLC_ACCOUNT
    elif framework in ("sklearn", "xgboost"):
        if gpu:
            raise ValueError(f"{framework} jobs run on CPU instances; GPU instance types are for pytorch")
        tag, account = TAGS[framework], SKLEARN_XGB_ACCOUNTS[region]
    else:
        raise ValueError(f"unknown framework {framework!r}")
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{tag}"


def optiloop_image() -> str:
    """The platform's own training image (an ECR URI the operator builds from the repository with
    `optiloop[train,torch]`: docs/automl.md, "On AWS"): the framework images run Python 3.8-3.10 and
    carry no optiloop, which the AutoML trial jobs import. Unset: the job fails at submit saying so."""
    import os

    uri = os.environ.get(AUTOML_IMAGE_ENV, "")
    if not uri:
        raise ValueError(
            f"{AUTOML_IMAGE_ENV} is not set: AutoML trial jobs need an image with optiloop[train] "
            "installed (the framework images lack it); set the tenant's automl_image"
        )
    return uri
