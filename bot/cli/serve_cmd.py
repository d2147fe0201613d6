"""`mlbot serve`: run the webhook bot (FastAPI under uvicorn)."""

from __future__ import annotations

import argparse

from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="threads running jobs (default MLBOT_WORKERS or 4)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bot.server.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        name = "MLBOT_" + str(first["loc"][0]).upper() if first.get("loc") else "MLBOT_*"
        raise InputError(f"{name} is invalid: {first['msg']}.") from None
    if args.workers is not None:
        if args.workers < 1:
            raise InputError("--workers must be at least 1.")
        settings.workers = args.workers
    settings.require_webhook_secret()
    # Before anything is created: `postgresql://…` once became a folder `postgresql:`.
    settings.store_location()

    import uvicorn

    from bot.server import logs
    from bot.server.app import create_app
    from bot.server.children import DEFAULT_ROUTER

    logs.configure(settings.log_level, settings.secret_values())
    # The queue writer is a thread: with Python's default 5 ms GIL switch
    # interval, each hand-off between it and the busy event loop could add up
    # to 5 ms to an acknowledgement.
    import sys

    sys.setswitchinterval(0.001)
    # The workers run in a child process, so running jobs never holds the GIL
    # the acknowledgements need.
    app = create_app(settings, worker_process=DEFAULT_ROUTER)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # The bot never uses the client's address, so X-Forwarded-For need not
        # be parsed on every request.
        proxy_headers=False,
        # GitHub waits 10 s for an answer; a request should never take long.
        timeout_keep_alive=30,
    )
    return 0
