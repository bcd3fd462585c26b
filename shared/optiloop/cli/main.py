"""Entry point of the `optiloop` console script (argparse: no extra dependency on the hot path)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from optiloop import __version__
from optiloop.cli.loop_args import LOOP_COMMANDS, add_loop_parsers
from optiloop.config import ConfigError, Settings
from optiloop.errors import OptiLoopError
from optiloop.store.records import ROLES

LOCAL_AWS_NAME = "optiloop-local"  # table and bucket of `serve --backend aws` unless named


def _storage_args(p: argparse.ArgumentParser) -> None:
    """Where the data lives: one set of options for `serve` and `keys`, so both find the same data."""
    p.add_argument(
        "--backend", default=None, choices=["local", "aws"], help="default: $OPTILOOP_BACKEND or local"
    )
    p.add_argument(
        "--aws-endpoint",
        default=None,
        metavar="URL",
        help="with --backend aws: DynamoDB and S3 at this URL (e.g. a moto_server); table and bucket are "
        "created if missing",
    )
    p.add_argument(
        "--table", default=None, help=f"with --backend aws (default: $OPTILOOP_TABLE or {LOCAL_AWS_NAME})"
    )
    p.add_argument(
        "--bucket", default=None, help=f"with --backend aws (default: $OPTILOOP_BUCKET or {LOCAL_AWS_NAME})"
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="optiloop", description="Closed optimisation loops as a service.")
    p.add_argument("--version", action="version", version=f"optiloop {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the whole platform on this machine (SQLite + a local folder)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--data-dir", default=None, help="default: $OPTILOOP_DATA_DIR or ./.optiloop")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    _storage_args(s)

    k = sub.add_parser("keys", help="create, list and revoke API keys directly on a data dir")
    ksub = k.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    kc = ksub.add_parser("create", help="create a key and print it once")
    kc.add_argument("--principal", required=True, help="who the key belongs to, e.g. alice or ci-runner")
    kc.add_argument("--role", required=True, choices=list(ROLES))
    kc.add_argument("--project-id", default=None, help="bind the key to one project (default: all projects)")
    kl = ksub.add_parser("list", help="list keys (never the key material)")
    kr = ksub.add_parser("revoke", help="revoke a key by its id")
    kr.add_argument("key_id")
    for sp in (kc, kl, kr):
        sp.add_argument("--data-dir", default=None, help="default: $OPTILOOP_DATA_DIR or ./.optiloop")
        _storage_args(sp)

    add_loop_parsers(sub)
    from optiloop.cli.automl import add_parser as add_automl_parser
    from optiloop.cli.loop_args import _server_args

    add_automl_parser(sub, _server_args)

    from optiloop.cli import db

    db_help = "the data's schema / item format version: show it, migrate up or down"
    db.add_args(sub.add_parser("db", help=db_help), _storage_args)

    d = sub.add_parser("demo", help="run a closed loop against a simulated system and plot coverage")
    d.add_argument("--tests", type=int, default=300)
    d.add_argument("--batch", type=int, default=20)
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--sut", default="checkout-service")
    d.add_argument("--out", default="optiloop-demo.png")
    d.add_argument("--data-dir", default=None, help="default: a temporary directory")
    pd = sub.add_parser(
        "prompts-demo", help="version, evaluate, approve, deploy and call a prompt on this machine"
    )
    pd.add_argument("--countries", default="Portugal,Peru,Norway")
    pd.add_argument("--models-file", default=None, help="a model catalogue (default: SmolLM2 if installed)")
    return p


def _serve_settings(args: argparse.Namespace) -> Settings:
    overrides = {"data_dir": args.data_dir, "backend": args.backend, "aws_endpoint": args.aws_endpoint}
    if (args.backend or os.environ.get("OPTILOOP_BACKEND", "").strip().lower()) == "aws":
        overrides["table"] = args.table or os.environ.get("OPTILOOP_TABLE") or LOCAL_AWS_NAME
        overrides["bucket"] = args.bucket or os.environ.get("OPTILOOP_BUCKET") or LOCAL_AWS_NAME
    return Settings.from_env(**overrides)


def _serve(args: argparse.Namespace) -> int:
    from optiloop.api.app import create_app
    from optiloop.api.server import serve
    from optiloop.auth.bootstrap import ensure_first_key
    from optiloop.runtime import build_deps

    settings = _serve_settings(args)
    if settings.backend == "aws" and settings.aws_endpoint:
        from optiloop.store.factory import ensure_aws_resources

        assert settings.table and settings.bucket
        ensure_aws_resources(settings.table, settings.bucket, endpoint_url=settings.aws_endpoint)
    deps = build_deps(settings)
    shown = ensure_first_key(deps, settings.admin_token, generate=True)
    if shown:
        # the variable every client reads (SDK, CLI, pytest plugin, the README's curl lines): paste as is
        print("OptiLoop: created the first admin key for this data dir. It is shown only once; store it now:")
        print(f"export OPTILOOP_API_KEY={shown}", flush=True)
    app = create_app(deps, settings)
    where = (
        f"table {settings.table}, bucket {settings.bucket}"
        + (f" at {settings.aws_endpoint}" if settings.aws_endpoint else "")
        if settings.backend == "aws"
        else str(settings.data_dir.resolve())
    )
    print(
        f"OptiLoop {__version__} on http://{args.host}:{args.port} "
        f"(console at /, API docs at /docs, data in {where})",
        flush=True,
    )
    from optiloop.audit.sealing import DigestScheduler

    DigestScheduler(deps).start()  # the audit digest every minute, as EventBridge does on AWS
    from optiloop.workflows.scheduler import start_local

    scheduler = start_local(deps)  # the scheduled Lambdas' work (model monitors), in process
    try:
        serve(app, settings, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        if scheduler is not None:
            scheduler.stop()
    return 0


def _keys(args: argparse.Namespace) -> int:
    from optiloop.cli import keys
    from optiloop.runtime import build_deps

    settings = _serve_settings(args)  # the same resolution as `serve`: flags, then OPTILOOP_*, then defaults
    if settings.backend == "local":
        from optiloop.store.factory import DB_FILE

        where = settings.data_dir.resolve()
        if not (where / DB_FILE).is_file():
            if args.keys_command != "create":
                print(
                    f"optiloop: no OptiLoop data in {where} (nothing has been served from it); pass the "
                    "data dir `serve` uses with --data-dir or OPTILOOP_DATA_DIR",
                    file=sys.stderr,
                )
                return 2
            print(f"optiloop: {where} holds no data yet; creating it", file=sys.stderr)
        print(f"optiloop: data dir {where}", file=sys.stderr)
    elif settings.aws_endpoint:
        from optiloop.store.factory import ensure_aws_resources

        assert settings.table and settings.bucket
        ensure_aws_resources(settings.table, settings.bucket, endpoint_url=settings.aws_endpoint)
    deps = build_deps(settings)
    try:
        return {"create": keys.create, "list": keys.list_, "revoke": keys.revoke}[args.keys_command](
            deps, args
        )
    finally:
        deps.store.close()


def _db(args: argparse.Namespace) -> int:
    from optiloop.cli import db

    return db.run(args, _serve_settings(args))  # the data `serve` would open, resolved the same way


def _loop(args: argparse.Namespace) -> int:
    """The SDK-backed commands; the API's errors are printed as the API words them."""
    from optiloop.cli import loop
    from optiloop.client import APIConnectionError, APIError

    try:
        return loop.run(args)
    except APIError as e:
        print(f"optiloop: {e.status} {e.code}: {e.message}", file=sys.stderr)
        for d in e.details:
            print(f"  {d}", file=sys.stderr)
        if e.request_id:
            print(f"  (request id {e.request_id})", file=sys.stderr)
        return 1
    except APIConnectionError as e:
        print(f"optiloop: cannot reach the server: {e} (is `optiloop serve` running? --url)", file=sys.stderr)
        return 3
    except (OSError, ValueError) as e:  # an unreadable or malformed input file
        print(f"optiloop: {e}", file=sys.stderr)
        return 2


def _demo(args: argparse.Namespace) -> int:
    from optiloop.cli import demo  # lazy: the demo pulls in plotting extras

    rc = demo.run(args)
    return rc if isinstance(rc, int) else 0


def _prompts_demo(args: argparse.Namespace) -> int:
    from optiloop.cli import prompts_demo

    return prompts_demo.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command in (*LOOP_COMMANDS, "automl"):
            return _loop(args)
        return {"serve": _serve, "keys": _keys, "db": _db, "demo": _demo, "prompts-demo": _prompts_demo}[
            args.command
        ](args)
    except ConfigError as e:
        print(f"optiloop: configuration error: {e}", file=sys.stderr)
        return 2
    except OptiLoopError as e:
        print(f"optiloop: {e.message}", file=sys.stderr)
        for d in e.details:
            print(f"  {d.get('field')}: {d.get('reason')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
