"""The MLflow Model Registry as a mirror of the git registry (optional, per model).

When `.github/mlbot.yml` gives a model an `mlflow:` block, every registry
commit is followed by `reconcile`, which makes MLflow agree with the model's
state at that commit:

- each version concerned (the one just written, and every live one) has an
  MLflow model version tagged `mlbot.version`: found by that tag, else
  linked (the run's own version, if training registered one), else created
  from the version's run (`runs:/<mlflow_run_id>/<artifact_path>`);
- each stage's alias (`production`, `staging`, or the configured names)
  points at the stage's live version, and is removed when the stage is
  empty or its version cannot be mirrored (an alias never names the wrong
  model);
- deprecated versions are tagged `mlbot.deprecated`.

Git stays the source of truth: this runs after the commit is written, as a
registry projection (`bot.registry.service.Projection`), so it can neither
block nor half-write a registry change. Each MLflow call is retried a few
times with backoff; what still fails is reported (and the next write, or
`mlbot mlflow sync`, converges again, since reconciling is idempotent).

`plan` is the pure part (git state in, the MLflow state wanted out);
`MlflowMirror` talks to MLflow through `mlflow.MlflowClient`, imported only
when a mirror runs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.errors import InputError

if TYPE_CHECKING:
    from bot.config.schema import MlflowMirror as MirrorConfig
    from bot.config.schema import RepoConfig
    from bot.registry.service import Outcome
    from bot.registry.state import ModelState
    from bot.registry.store import RegistryStore

log = logging.getLogger(__name__)

VERSION_TAG = "mlbot.version"
COMMIT_TAG = "mlbot.commit"
DEPRECATED_TAG = "mlbot.deprecated"
ATTEMPTS = 3
BACKOFF = 0.5  # seconds, doubled per attempt
# MLflow's client retries for minutes by default (rate limits); a mirror retries
# itself, briefly, so a registry command is not held up by a server that is down.
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}
# MLflow error codes that no retry changes.
PERMANENT = {
    "INVALID_PARAMETER_VALUE",
    "RESOURCE_ALREADY_EXISTS",
    "RESOURCE_DOES_NOT_EXIST",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "BAD_REQUEST",
}


class MirrorError(Exception):
    """An MLflow call that failed after its retries; the git registry is unaffected."""


@dataclass(frozen=True)
class Wanted:
    """The MLflow state one model's git state calls for."""

    registered_model: str
    versions: dict[str, str | None]  # mlbot version -> its MLflow run id (None: none known)
    aliases: dict[str, str | None]  # alias -> mlbot version (None: the stage is empty)
    deprecated: frozenset[str] = frozenset()


def alias_for(config: MirrorConfig, stage: str) -> str:
    return config.aliases.get(stage, stage)


def plan(state: ModelState, config: MirrorConfig, focus: str | None = None) -> Wanted:
    """What MLflow should hold for `state`: `focus` (the version just written) and the live ones."""
    live = state.live
    stages = set(state.stages.stages) if state.stages else set()
    aliases: dict[str, str | None] = {
        alias_for(config, stage): live.get(stage) for stage in sorted(stages | set(config.aliases))
    }
    concerned = {v for v in live.values() if v} | ({focus} if focus else set())
    versions: dict[str, str | None] = {}
    for version in sorted(concerned):
        try:
            versions[version] = state.record(version).lineage.mlflow_run_id
        except InputError:  # a version known only from a tag has no record to name a run
            versions[version] = None
    deprecated = (
        frozenset(d.version for d in state.stages.deprecated) if state.stages else frozenset()
    )
    return Wanted(config.registered_model, versions, aliases, deprecated)


@dataclass
class Report:
    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        parts = self.done + [f"FAILED {f}" for f in self.failed]
        return "MLflow: " + ("; ".join(parts) if parts else "already in sync")


def _code(exc: BaseException) -> str | None:
    return getattr(exc, "error_code", None)


class MlflowMirror:
    def __init__(
        self,
        config: MirrorConfig,
        *,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = ATTEMPTS,
    ) -> None:
        self.config = config
        self.sleep = sleep
        self.attempts = attempts
        if client is None:
            for key, value in CLIENT_ENV.items():
                os.environ.setdefault(key, value)
            from mlflow import MlflowClient

            uri = config.tracking_uri
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.client = client

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        delay = BACKOFF
        for attempt in range(1, self.attempts + 1):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                if _code(exc) in PERMANENT or attempt == self.attempts:
                    # The message names the call and MLflow's error code, never the
                    # tracking URI (it may carry credentials).
                    raise MirrorError(
                        f"{what}: {_code(exc) or type(exc).__name__}"
                        + (f" after {attempt} attempts" if attempt > 1 else "")
                    ) from exc
                log.warning("MLflow %s failed (attempt %d), retrying", what, attempt)
                self.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _ensure_model(self, name: str) -> None:
        try:
            self._call("get registered model", self.client.get_registered_model, name)
        except MirrorError as exc:
            if _code(exc.__cause__) != "RESOURCE_DOES_NOT_EXIST":
                raise
            try:
                self._call("create registered model", self.client.create_registered_model, name)
            except MirrorError as race:  # another writer created it meanwhile: as good
                if _code(race.__cause__) != "RESOURCE_ALREADY_EXISTS":
                    raise

    def _versions(self, name: str) -> list[Any]:
        found, token = [], None
        while True:
            page = self._call(
                "search model versions",
                self.client.search_model_versions,
                f"name='{name}'",
                page_token=token,
            )
            found.extend(page)
            token = getattr(page, "token", None)
            if not token:
                return found

    def apply(self, wanted: Wanted, commit: str | None = None) -> Report:
        """Make MLflow hold `wanted`; every step is attempted, each failure reported."""
        report = Report()
        name = wanted.registered_model
        try:
            self._ensure_model(name)
            existing = self._versions(name)
        except MirrorError as exc:
            report.failed.append(str(exc))
            return report
        by_tag = {mv.tags.get(VERSION_TAG): mv for mv in sorted(existing, key=_number)}
        mirrored: dict[str, str] = {}  # mlbot version -> MLflow version number
        for version, run_id in wanted.versions.items():
            try:
                number = self._version(name, version, run_id, commit, by_tag, existing, report)
            except MirrorError as exc:
                report.failed.append(f"{version}: {exc}")
                continue
            if number is not None:
                mirrored[version] = number
        self._aliases(name, wanted, mirrored, report)
        for version in sorted(wanted.deprecated):
            mv = by_tag.get(version)
            if mv is None or mv.tags.get(DEPRECATED_TAG) == "true":
                continue
            try:
                self._call(
                    "tag deprecated",
                    self.client.set_model_version_tag,
                    name,
                    mv.version,
                    DEPRECATED_TAG,
                    "true",
                )
                report.done.append(f"{version} (#{mv.version}) tagged deprecated")
            except MirrorError as exc:
                report.failed.append(f"{version}: {exc}")
        return report

    def _version(self, name, version, run_id, commit, by_tag, existing, report) -> str | None:
        if version in by_tag:
            return by_tag[version].version
        if run_id is None:
            report.failed.append(f"{version} names no MLflow run, so it has no MLflow version")
            return None
        tags = {VERSION_TAG: version} | ({COMMIT_TAG: commit} if commit else {})
        # Training may have registered the run itself (log_model(registered_model_name=...)):
        # link that version rather than create a second one.
        for mv in sorted(existing, key=_number):
            if mv.run_id == run_id and VERSION_TAG not in mv.tags:
                for key, value in tags.items():
                    tag = self.client.set_model_version_tag
                    self._call("tag version", tag, name, mv.version, key, value)
                mv.tags.update(tags)
                by_tag[version] = mv
                report.done.append(f"{version} linked to #{mv.version}")
                return mv.version
        source = f"runs:/{run_id}/{self.config.artifact_path}"
        mv = self._call(
            "create model version",
            self.client.create_model_version,
            name,
            source,
            run_id=run_id,
            tags=tags,
            description=f"mlbot {version}",
        )
        by_tag[version] = mv
        report.done.append(f"{version} created as #{mv.version}")
        return mv.version

    def _aliases(self, name: str, wanted: Wanted, mirrored: dict[str, str], report: Report):
        try:
            model = self._call("read aliases", self.client.get_registered_model, name)
            current = dict(model.aliases)
        except MirrorError as exc:
            report.failed.append(str(exc))
            return
        for alias, version in wanted.aliases.items():
            target = mirrored.get(version) if version else None
            try:
                if target is not None and current.get(alias) != target:
                    move = self.client.set_registered_model_alias
                    self._call("set alias", move, name, alias, target)
                    report.done.append(f"alias {alias} → {version} (#{target})")
                elif target is None and alias in current:
                    # An empty stage, or a version with no MLflow twin: no alias beats a
                    # wrong one.
                    remove = self.client.delete_registered_model_alias
                    self._call("remove alias", remove, name, alias)
                    report.done.append(f"alias {alias} removed")
                if version and target is None:
                    report.failed.append(f"alias {alias} cannot point at {version}")
            except MirrorError as exc:
                report.failed.append(f"alias {alias}: {exc}")


def _number(mv: Any) -> int:
    return int(mv.version)


def sync(
    state: ModelState,
    config: MirrorConfig,
    *,
    focus: str | None = None,
    commit: str | None = None,
    mirror: MlflowMirror | None = None,
) -> Report:
    """Reconcile one model's MLflow mirror with its git state."""
    return (mirror or MlflowMirror(config)).apply(plan(state, config, focus), commit or state.head)


def projection(
    store: RegistryStore, config: RepoConfig, mirrors: dict[str, MlflowMirror] | None = None
) -> Callable[[ModelState, Outcome], str | None]:
    """The registry's post-write hook that keeps each configured model's MLflow mirror."""
    made: dict[str, MlflowMirror] = dict(mirrors or {})

    def mlflow_mirror(_before: ModelState, outcome: Outcome) -> str | None:
        model = outcome.change.model
        mc = config.models.get(model)
        if mc is None or mc.mlflow is None:
            return None
        try:
            mirror = made.get(model) or made.setdefault(model, MlflowMirror(mc.mlflow))
            after = store.read_model(model, outcome.commit)
            report = sync(
                after, mc.mlflow, focus=outcome.change.version, commit=outcome.commit, mirror=mirror
            )
        except Exception as exc:  # reported, never raised: the registry commit stands
            log.warning("MLflow mirror of %s failed: %s", model, type(exc).__name__)
            return f"MLflow: FAILED ({type(exc).__name__}); run `mlbot mlflow sync {model}`"
        if report.failed:
            return report.summary() + f"; run `mlbot mlflow sync {model}` to retry"
        return report.summary()

    return mlflow_mirror


def projections(
    store: RegistryStore, config: RepoConfig
) -> tuple[Callable[[ModelState, Outcome], str | None], ...]:
    """The registry projections this configuration asks for: none unless a model is mirrored."""
    if not any(mc.mlflow for mc in config.models.values()):
        return ()
    return (projection(store, config),)
