"""GitHub Deployments as a projection of the registry: what each stage runs, and since when.

After every promotion or rollback the bot records a Deployment of the registry commit
to the stage's environment (`<stage>`, or the name `environments:` gives the model in
`.github/mlbot.yml`), with a payload naming model, version, artifact digest and
registry commit, a `success` status linking to the registry commit, and an `inactive`
status on the deployment it replaces. The Environments page then shows each stage.

The registry stays the source of truth. A deployment call that fails never touches the
registry (the commit is already written): it is retried, reported in the reply, and
`sync` puts it right later, from the registry alone (`mlbot github sync-deployments`,
and the next push to the default branch that changes the model's stages).

Deployments of one model share the environment with other models' (`production` by
default), so each model's deployments carry the task `deploy:<model>` and a model
replaces only its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.chatops.context import RepoContext
    from bot.config.schema import RepoConfig
    from bot.registry.service import Outcome
    from bot.registry.state import ModelState
    from bot.registry.store import CommitInfo

log = logging.getLogger(__name__)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
LISTED = 10  # a model's recent deployments looked at in one environment


# -- pure -------------------------------------------------------------------------------------
def environment(config: RepoConfig | None, model: str, stage: str) -> str:
    """The environment a model's stage deploys to: configured, or the stage's name."""
    found = config.models.get(model) if config is not None else None
    return (found.environments.get(stage) if found is not None else None) or stage


def task(model: str) -> str:
    return f"deploy:{model}"


def payload(model: str, version: str, stage: str, digest: str | None, commit: str) -> dict:
    return {
        "model": model,
        "version": version,
        "stage": stage,
        "artifact_sha256": digest,
        "registry_commit": commit,
    }


def assignment_commit(log_: Iterable[CommitInfo], model: str, stage: str, version: str) -> str:
    """The registry commit that put `version` into `stage` last (promotion or rollback)."""
    wanted = {
        f"registry: promote {model} {version} to {stage}",
        f"registry: roll back {model} {stage} to {version}",
    }
    for info in log_:  # newest first
        if info.subject in wanted:
            return info.sha
    raise LookupError(f"no registry commit puts {model} {version} into {stage}")


@dataclass(frozen=True)
class Recorded:
    """What one deployment call did (or why it did not), for the reply and the log."""

    model: str
    stage: str
    environment: str
    version: str
    state: str  # created, current, failed
    deployment_id: int | None = None
    replaced: int | None = None
    error: str | None = None

    def line(self) -> str:
        if self.state == "failed":
            return (
                f"deployment of {self.model} {self.version} to environment {self.environment} "
                f"failed ({self.error}); the registry is unaffected, and "
                "`mlbot github sync-deployments` or the next registry push records it"
            )
        what = "recorded" if self.state == "created" else "already recorded"
        tail = f", deployment {self.replaced} inactive" if self.replaced else ""
        return (
            f"deployment {self.deployment_id} of {self.version} to environment "
            f"{self.environment} {what}{tail}"
        )


# -- GitHub I/O ---------------------------------------------------------------------------
_locks_guard = threading.Lock()
_locks: dict[tuple[str, str, str], threading.Lock] = {}


# Models whose projection failed in this process: the next push re-syncs them even when
# it is the bot's own (whose projection otherwise ran already and was reported).
_unsynced: set[tuple[str, str]] = set()


def unsynced(full_name: str, model: str) -> bool:
    with _locks_guard:
        return (full_name.lower(), model) in _unsynced


def _mark(full_name: str, model: str, failed: bool) -> None:
    with _locks_guard:
        (_unsynced.add if failed else _unsynced.discard)((full_name.lower(), model))


def _lock(full_name: str, model: str, env: str) -> threading.Lock:
    # The inline projection and a push-triggered sync of the same model must not both create.
    with _locks_guard:
        return _locks.setdefault((full_name.lower(), model, env), threading.Lock())


def _payload_of(deployment: Mapping[str, Any]) -> dict[str, Any]:
    value = deployment.get("payload")
    return value if isinstance(value, dict) else {}


def commit_url(rc: RepoContext, sha: str) -> str:
    html = rc.once("repo-html", lambda: rc.call("GET", rc.repo_path("")).get("html_url"))
    return f"{html}/commit/{sha}"


def record(
    rc: RepoContext,
    *,
    model: str,
    stage: str,
    version: str,
    commit: str,
    digest: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Recorded:
    """Record the deployment, retried; never raises (the registry write already happened)."""
    env = environment(_config_or_none(rc), model, stage)
    error = "unknown"
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with _lock(rc.full_name, model, env):
                done = _record_once(rc, model, stage, env, version, commit, digest)
            _mark(rc.full_name, model, failed=False)
            return done
        except Exception as exc:  # reported, never raised: see the module's docstring
            error = " ".join(str(exc).split())[:200] or type(exc).__name__
            log.warning(
                "deployment call failed",
                extra={"model": model, "environment": env, "attempt": attempt, "error": error},
            )
            if attempt < ATTEMPTS:
                sleep(BACKOFF_SECONDS * attempt)
    _mark(rc.full_name, model, failed=True)
    return Recorded(model, stage, env, version, "failed", error=error)


def _config_or_none(rc: RepoContext) -> RepoConfig | None:
    try:
        return rc.config
    except Exception:  # no readable mlbot.yml: the stage's own name
        return None


def _record_once(
    rc: RepoContext,
    model: str,
    stage: str,
    env: str,
    version: str,
    commit: str,
    digest: str | None,
) -> Recorded:
    listed = rc.call(
        "GET",
        rc.repo_path("/deployments"),
        {"environment": env, "task": task(model), "per_page": LISTED},
    )
    mine = [d for d in listed if _payload_of(d).get("model") == model]
    current = next((d for d in mine if _payload_of(d).get("registry_commit") == commit), None)
    if current is not None:
        # An earlier attempt created it: finish what it started, create nothing new.
        statuses = rc.call("GET", rc.repo_path(f"/deployments/{current['id']}/statuses"))
        if not any(s.get("state") == "success" for s in statuses):
            _success(rc, int(current["id"]), commit, version, model)
        replaced = _retire(rc, mine, int(current["id"]))
        return Recorded(model, stage, env, version, "current", int(current["id"]), replaced)
    created = rc.call(
        "POST",
        rc.repo_path("/deployments"),
        body={
            "ref": commit,
            "task": task(model),
            "auto_merge": False,
            "required_contexts": [],  # the registry commit's gates were judged by the bot
            "payload": payload(model, version, stage, digest, commit),
            "environment": env,
            "description": f"{model} {version} ({stage}), from the mlbot registry"[:140],
            "production_environment": stage == "production",
            "transient_environment": False,
        },
    )
    dep_id = int(created["id"])
    _success(rc, dep_id, commit, version, model)
    replaced = _retire(rc, mine, dep_id)
    return Recorded(model, stage, env, version, "created", dep_id, replaced)


def _success(rc: RepoContext, dep_id: int, commit: str, version: str, model: str) -> None:
    rc.call(
        "POST",
        rc.repo_path(f"/deployments/{dep_id}/statuses"),
        body={
            "state": "success",
            "log_url": commit_url(rc, commit),
            "description": f"{model} {version} is live per registry commit {commit[:7]}"[:140],
            # Replaced deployments are marked here, per model: auto_inactive would also
            # retire other models' deployments sharing the environment.
            "auto_inactive": False,
        },
    )


def _retire(rc: RepoContext, mine: list[Mapping[str, Any]], keep: int) -> int | None:
    """Mark the newest other deployment of the model inactive: the one just replaced."""
    older = [d for d in mine if int(d["id"]) != keep and int(d["id"]) < keep]
    if not older:
        return None
    replaced = max(older, key=lambda d: int(d["id"]))
    statuses = rc.call("GET", rc.repo_path(f"/deployments/{replaced['id']}/statuses"))
    latest = max(statuses, key=lambda s: int(s.get("id", 0)), default=None)
    if latest is None or latest.get("state") != "inactive":
        rc.call(
            "POST",
            rc.repo_path(f"/deployments/{replaced['id']}/statuses"),
            body={"state": "inactive", "description": "replaced by a newer registry commit"},
        )
    return int(replaced["id"])


def projection(rc: RepoContext) -> Callable[[ModelState, Outcome], str | None]:
    """The registry's post-write hook: the deployment of a promotion or rollback."""

    def project(state: ModelState, outcome: Outcome) -> str | None:
        change = outcome.change
        if change.action not in ("promote", "rollback") or change.stage is None:
            return None
        try:
            digest = state.record(change.version).artifact.sha256
        except Exception:  # the record is read for the payload only
            digest = None
        return record(
            rc,
            model=change.model,
            stage=change.stage,
            version=change.version,
            commit=outcome.commit,
            digest=digest,
        ).line()

    return project


def sync(rc: RepoContext, models: Iterable[str] | None = None) -> list[Recorded]:
    """Make every live stage's deployment match the registry on the default branch."""
    config = rc.config
    out: list[Recorded] = []
    for model in sorted(models if models is not None else config.models):
        if model not in config.models:
            continue
        state = rc.state(model)
        if not state.live:
            continue
        history = rc.store.log(model)
        for stage, version in sorted(state.live.items()):
            try:
                commit = assignment_commit(history, model, stage, version)
            except LookupError:
                # Written before mlbot (or past the log's reach): the head carries it.
                commit = str(rc.head)
            try:
                digest = state.record(version).artifact.sha256
            except Exception:
                digest = None
            out.append(
                record(rc, model=model, stage=stage, version=version, commit=commit, digest=digest)
            )
    return out
