# The image AutoML jobs run on (training_jobs/automl_trial and automl_experiment, framework
# "optiloop"): Python 3.11, optiloop with the `automl` and `torch` extras (the search's code and its model families), and
# SageMaker's training toolkit, which runs the job's sourcedir (sagemaker_program /
# sagemaker_submit_directory) exactly as the framework images do. The framework images run Python
# 3.8-3.10 and carry no optiloop, so trial jobs cannot run on them.
#
#   docker build -f docker/automl-trial.Dockerfile -t <account>.dkr.ecr.<region>.amazonaws.com/optiloop-automl:<tag> .
#   docker push ...; cdk deploy -c tenant=<t> -c automl_image=<that URI>
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 OMP_WAIT_POLICY=PASSIVE
WORKDIR /opt/optiloop
COPY pyproject.toml README.md ./
COPY shared ./shared
RUN pip install --extra-index-url https://download.pytorch.org/whl/cpu ".[automl,torch]" sagemaker-training
ENTRYPOINT []
