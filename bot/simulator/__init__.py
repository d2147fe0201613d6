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

It refuses what GitHub refuses (installation scopes and permissions, collaborator
roles, review rules), verifies commits as GitHub does, records webhook deliveries,
answers conditional requests and keeps a rate limit; docs/simulator.md lists what it
does not model (search, GraphQL, branch protection, …).

Where things are:

- `simulator.py`: `GitHubSimulator`, the control API's families assembled behind a server;
- `control/<family>.py`: the Python control API tests use (people, apps, repos, issues,
  pulls, checks, actions), on top of `world.py` (state, clock, lookups);
- `rest/<family>.py`: the REST handlers, one module per resource family, keyed by
  operationId (`POST /repos/{owner}/{repo}/check-runs` is in `rest/checks.py`);
- the request pipeline: `server.py` (HTTP), `pipeline.py` (faults, dispatch, headers),
  `validation.py` (OpenAPI), `auth.py` (tokens, App JWTs), `pagination.py`;
- webhooks: `webhooks.py` builds and validates payloads, `delivery.py` signs and sends them;
- `render/<family>.py` turns state into GitHub's JSON; `bare_repo.py` keeps repositories in
  real git; `permissions.py`, `signing.py`, `conditional.py` and `budget.py` hold GitHub's
  rules (who may do what, which commits are verified, 304s, the rate limit).
"""

from __future__ import annotations

from bot.simulator.faults import Faults
from bot.simulator.request import LoggedRequest, ValidationFailure
from bot.simulator.simulator import GitHubSimulator

__all__ = ["Faults", "GitHubSimulator", "LoggedRequest", "ValidationFailure"]
