"""Registry operations over any backend: plan, gate, write, retry on a lost race.

Every write reads the branch head, plans the change on that state, runs the
gates on that same state, and writes with compare-and-swap. If the branch
moved meanwhile, the whole sequence runs again on the new state (so a gate
is never judged on stale data), a bounded number of times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.errors import Conflict, Refused
from bot.policy import gates
from bot.policy.collect import promotion_evidence
from bot.policy.evidence import Approvals, GateEvidence
from bot.policy.schema import Policy
from bot.policy.verdict import Verdict
from bot.registry import audit, plan, schema, semver
from bot.registry.state import ModelState
from bot.registry.store import Identity, RegistryStore, StaleHead

MAX_ATTEMPTS = 5
log = logging.getLogger(__name__)


class GateRefused(Refused):
    """A gate said no; the verdict names every failed check."""

    def __init__(self, action: str, model: str, version: str, stage: str, verdict: Verdict):
        self.verdict = verdict
        lines = [f"{c.name}: {c.reason}" + (f" {c.fix}" if c.fix else "") for c in verdict.failed]
        super().__init__(f"{action} of {model} {version} to {stage} refused: " + " | ".join(lines))


class Superseded(Refused):
    """A rollback's removed version is no longer live: someone rolled back or promoted first."""

    def __init__(
        self, model: str, stage: str, removes: str, live: str | None, by: str | None, since: Any
    ) -> None:
        self.model, self.stage, self.removes, self.live = model, stage, removes, live
        self.by, self.since = by, since
        super().__init__(
            f"{model} {removes} is no longer live in {stage} ({live or 'nothing'} is, since "
            f"{since or '?'}, by {by or '?'}): this rollback changes nothing."
        )


def superseded(state: ModelState, stage: str, removes: str) -> Superseded | None:
    """The `Superseded` refusal when `removes` is not what `stage` runs in `state`."""
    entry = (state.stages.stages if state.stages else {}).get(stage)
    if entry is not None and entry.version == removes:
        return None
    return Superseded(
        state.model,
        stage,
        removes,
        entry.version if entry else None,
        entry.by if entry else None,
        entry.since if entry else None,
    )


@dataclass(frozen=True)
class Outcome:
    change: plan.Change
    commit: str
    attempts: int
    verdict: Verdict | None = None
    # What each post-write projection reported (a deployment recorded, or why not).
    notes: tuple[str, ...] = ()

    @property
    def tags(self) -> list[str]:
        return [t.name for t in self.change.tags]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


EvidenceHook = Callable[[ModelState, str, str, Policy], GateEvidence]
# Runs after a commit is written, with the state it was planned on; says what it did.
# A projection (a GitHub Deployment, say) never undoes or blocks the write: what it
# raises is logged and reported as a note.
Projection = Callable[[ModelState, Outcome], str | None]


class Registry:
    def __init__(
        self,
        store: RegistryStore,
        policy_for: Callable[[str], Policy],
        *,
        author: Identity,
        repo_root: Path | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        max_attempts: int = MAX_ATTEMPTS,
        projections: Sequence[Projection] = (),
        model_lock: Callable[[str], AbstractContextManager[Any]] = lambda model: nullcontext(),
    ) -> None:
        self.store = store
        # Held around each write to a model: the bot's replicas write one model one at a time.
        self.model_lock = model_lock
        self.policy_for = policy_for
        self.author = author
        self.repo_root = repo_root
        self.clock = clock
        self.max_attempts = max_attempts
        self.projections = tuple(projections)

    def state(self, model: str) -> ModelState:
        return self.store.read_model(model, self.store.head())

    def _write(
        self,
        model: str,
        make: Callable[[ModelState], tuple[plan.Change, Any]],
        known_head: str | None = None,
    ) -> Outcome:
        """Plan on the branch's head, gate, write; on a lost race re-read and do it again.

        `known_head`: a head the caller read moments ago. The first attempt plans on it
        without asking again: the write's non-forced ref update fails if the branch moved
        since, and the retry then reads the head afresh.
        """
        ensure_clean = getattr(self.store, "ensure_clean", None)
        if ensure_clean is not None:
            ensure_clean(model)
        with self.model_lock(model):
            for attempt in range(1, self.max_attempts + 1):
                head = known_head if attempt == 1 and known_head else self.store.head()
                state = self.store.read_model(model, head)
                change, verdict = make(state)
                try:
                    commit = self.store.write(head, change, self.author)
                except StaleHead:
                    continue
                outcome = Outcome(change, commit, attempts=attempt, verdict=verdict)
                # Still under the model's lock: projections of two writes land in their order.
                return self._project(state, outcome)
        raise Conflict(
            f"the registry branch kept moving: gave up after {self.max_attempts} attempts; "
            "nothing was written, try again."
        )

    def _project(self, state: ModelState, outcome: Outcome) -> Outcome:
        notes = []
        for project in self.projections:
            try:
                note = project(state, outcome)
            except Exception as exc:  # the commit stands; the projection can be re-synced
                log.exception("a post-write projection failed")
                note = f"{getattr(project, '__name__', 'projection')} failed: {exc}"
            if note:
                notes.append(note)
        return replace(outcome, notes=tuple(notes)) if notes else outcome

    # -- operations -------------------------------------------------------

    def register(
        self,
        model: str,
        *,
        artifact: schema.Artifact,
        audit_info: audit.Audit,
        version: str | None = None,
        metrics: dict | None = None,
        params: dict | None = None,
        slices: dict | None = None,
        lineage: schema.Lineage | None = None,
        evidence: schema.Evidence | None = None,
        created_by: str | None = None,
    ) -> Outcome:
        policy = self.policy_for(model)
        if version is not None:
            semver.parse(version)

        def make(state: ModelState) -> tuple[plan.Change, None]:
            now = self.clock()
            chosen = plan.choose_version(state, version, policy.registration.bump)
            record = schema.VersionRecord(
                model=model,
                version=chosen,
                artifact=artifact,
                metrics=metrics or {},
                params=params or {},
                slices=slices or {},
                lineage=lineage or schema.Lineage(),
                evidence=evidence or schema.Evidence(),
                created_at=now,
                created_by=created_by or audit_info.requested_by,
            )
            return plan.plan_register(state, record, audit_info, now), None

        return self._write(model, make)

    def promote(
        self,
        model: str,
        version: str,
        stage: str,
        *,
        audit_info: audit.Audit,
        approvals: Approvals | None = None,
        checks: dict[str, str] | None = None,
        metrics: dict | None = None,
        evidence_hook: EvidenceHook | None = None,
        known_head: str | None = None,
    ) -> Outcome:
        """Assign `stage` to `version` if every gate passes on the state being written.

        `known_head`: the branch head the caller just read (see `_write`)."""
        policy = self.policy_for(model)

        def default_hook(state: ModelState, version: str, stage: str, policy: Policy):
            return promotion_evidence(
                state,
                version,
                stage,
                policy,
                repo_root=self.repo_root,
                approvals=approvals,
                checks=checks,
                metrics=metrics,
            )

        def make(state: ModelState) -> tuple[plan.Change, Verdict]:
            limit = policy.registration.history_limit
            change = plan.plan_promote(state, version, stage, audit_info, self.clock(), limit)
            ev = (evidence_hook or default_hook)(state, version, stage, policy)
            verdict = gates.evaluate_promotion(policy, ev)
            if not verdict.passed:
                raise GateRefused("promotion", model, version, stage, verdict)
            return change, verdict

        return self._write(model, make, known_head)

    def rollback(
        self,
        model: str,
        stage: str,
        *,
        audit_info: audit.Audit,
        to: str | None = None,
        approvals: Approvals | None = None,
        removes: str | None = None,
        known_head: str | None = None,
    ) -> Outcome:
        """Point `stage` back at what ran before (or at `to`, which must have run there).

        `removes`: the version the requester saw live and means to take out. When the
        branch moved and the stage runs something else now (another rollback won the
        race, or a promotion), nothing is written (`Superseded`): re-planning on the new
        state would "roll back" to the very version the first rollback removed.
        `known_head`: the branch head the caller just read (see `_write`).
        """
        policy = self.policy_for(model)

        def make(state: ModelState) -> tuple[plan.Change, Verdict]:
            if removes is not None and (refusal := superseded(state, stage, removes)):
                raise refusal
            change = plan.plan_rollback(
                state, stage, to, audit_info, self.clock(), policy.registration.history_limit
            )
            ev = GateEvidence(stage=stage, version=change.version, approvals=approvals)
            verdict = gates.evaluate_rollback(policy, ev)
            if not verdict.passed:
                raise GateRefused("rollback", model, change.version, stage, verdict)
            return change, verdict

        return self._write(model, make, known_head)

    def deprecate(self, model: str, version: str, *, audit_info: audit.Audit) -> Outcome:
        def make(state: ModelState) -> tuple[plan.Change, None]:
            return plan.plan_deprecate(state, version, audit_info, self.clock()), None

        return self._write(model, make)
