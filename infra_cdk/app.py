"""CDK entry point (cdk.json). The AWS shape is built in issue #3; until then fail clearly."""

import sys

if __name__ == "__main__":
    sys.exit("optiloop: the AWS deployment (infra_cdk) is not built yet; run locally with `make run`")
