"""`mlbot github`: GitHub's own surfaces, put right from the registry.

    mlbot github sync-deployments --repo acme/models [--model cancer]

Records a GitHub Deployment for every live stage whose latest deployment does not
match the registry on the default branch (and marks the replaced one inactive), with
the bot's credentials (MLBOT_APP_ID + MLBOT_PRIVATE_KEY, or MLBOT_GITHUB_TOKEN).
Nothing in the registry is written; running it twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import json
import sys

from bot.errors import InputError


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="github_command", metavar="SUBCOMMAND", required=True)
    sync = sub.add_parser(
        "sync-deployments",
        help="record the deployments the registry says each stage runs",
        description="Make GitHub's deployments match what the registry says each stage runs.",
    )
    sync.add_argument("--repo", required=True, help="owner/name of the model repository")
    sync.add_argument("--model", action="append", help="only this model (repeatable)")
    sync.add_argument("--installation", type=int, help="App installation id (found if omitted)")
    sync.add_argument("--json", action="store_true", help="print the result as JSON")
    sync.set_defaults(func=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from bot.chatops import deployments
    from bot.chatops.context import RepoContext
    from bot.registry.names import check_model_name

    if args.repo.count("/") != 1 or not all(args.repo.split("/")):
        raise InputError(f"--repo {args.repo!r}: give owner/name.")
    for model in args.model or []:
        check_model_name(model)
    gh = _client(args.repo, args.installation)
    meta = gh.rest("GET", f"/repos/{args.repo}")
    rc = RepoContext(gh, args.repo, str(meta.get("default_branch") or "main"))
    recorded = deployments.sync(rc, args.model)
    failed = [r for r in recorded if r.state == "failed"]
    if args.json:
        json.dump([r.__dict__ for r in recorded], sys.stdout, indent=2)
        print()
    else:
        for r in recorded:
            print(f"{r.model} {r.stage}: {r.line()}")
        if not recorded:
            print("nothing is live in any stage: no deployment to record")
    return 1 if failed else 0


def _client(full_name: str, installation: int | None):
    from pydantic import ValidationError

    from bot.github.client import GitHubClientFactory
    from bot.server.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        raise InputError(f"the MLBOT_* settings are invalid: {exc.errors()[0]['msg']}") from None
    token = settings.github_token.get_secret_value() if settings.github_token else None
    factory = GitHubClientFactory(
        settings.github_url,
        app_id=settings.app_id,
        private_key=settings.private_key_pem(),
        token=token,
    )
    if factory.uses_app and installation is None:
        from github import Auth, GithubIntegration

        owner, name = full_name.split("/")
        integration = GithubIntegration(
            auth=Auth.AppAuth(settings.app_id, settings.private_key_pem()),
            base_url=settings.github_url,
        )
        installation = integration.get_repo_installation(owner, name).id
    return factory.for_installation(installation)
