"""A local GitHub REST API simulator: a **test double, not a GitHub replacement**.

It serves the part of the REST API that mlbot uses (repositories and contents,
git data, pulls and reviews, issues, comments, labels, reactions, permissions,
team membership, checks and statuses, Actions runs and artifacts, App
installation tokens) on loopback, with repository state kept in real git
repositories on disk, and sends signed webhooks for what happens.

Every request it receives and every response it returns is validated against
GitHub's OpenAPI description (npm `@octokit/openapi`); anything that does not
validate is recorded in `GitHubSimulator.validation_failures`, and the pytest
fixture in `bot.simulator.pytest_plugin` fails the test. It can inject
latency, 5xx answers, timeouts and secondary rate limits, and logs every
request so tests and benchmarks can count calls.

It does not implement GitHub's permission model beyond collaborator roles,
search, GraphQL, branch protection or anything the bot does not call.
"""

from __future__ import annotations

from bot.simulator.core import GitHubSimulator, LoggedRequest, ValidationFailure
from bot.simulator.faults import Faults

__all__ = ["Faults", "GitHubSimulator", "LoggedRequest", "ValidationFailure"]
