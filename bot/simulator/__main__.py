"""Run the GitHub simulator by hand: `python -m bot.simulator --repo acme/models`.

A test double for trying the bot locally, not a GitHub replacement. Prints the API
URL and a token; stops on Ctrl-C and reports any OpenAPI validation failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from bot.simulator import Faults, GitHubSimulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.simulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any)")
    parser.add_argument("--root", type=Path, help="where repositories live (default: a temp dir)")
    parser.add_argument("--repo", action="append", default=[], help="owner/name to create")
    parser.add_argument("--user", default="octocat", help="login the printed token acts as")
    parser.add_argument("--webhook-url", help="where to send signed webhooks")
    parser.add_argument("--webhook-secret", help="secret for X-Hub-Signature-256")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of failed requests")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    root = args.root or Path(tempfile.mkdtemp(prefix="github-sim-"))
    sim = GitHubSimulator(
        root,
        port=args.port,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        faults=Faults(rate=args.fault_rate, seed=args.seed),
    )
    with sim:
        for full_name in args.repo:
            sim.create_repo(full_name)
            sim.add_collaborator(full_name, args.user, "admin")
        token = sim.add_token(args.user)
        print(f"GitHub simulator (a test double) at {sim.url}, repositories in {root}")
        print(f"token for {args.user}: {token}")
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    for failure in sim.validation_failures:
        print(f"OpenAPI validation failure: {failure}", file=sys.stderr)
    return 1 if sim.validation_failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
