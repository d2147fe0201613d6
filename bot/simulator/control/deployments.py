"""Deployments, their statuses and environments; deploy jobs waiting on protection rules.

As on GitHub: a deployment names a commit (a branch, tag or SHA resolved when it is
created), a task and an environment, which is created on first use; statuses are kept
newest last; `auto_inactive` (default true) marks earlier `success` deployments of the
same environment inactive, unless the environment is transient or production. A job
deploying to an environment with custom protection rules waits for each rule's App to
answer through the run's `deployment_protection_rule` callback.
"""

from __future__ import annotations

from typing import Any

from bot.simulator.request import ApiError
from bot.simulator.state import Deployment, Environment, GateRequest
from bot.simulator.webhooks import WebhookEmitter


class DeploymentsControl(WebhookEmitter):
    def environment(self, full_name: str, name: str, *, create: bool = False) -> Environment:
        repo = self.repo(full_name)
        with self.lock:
            found = self.environments.get((repo.full_name, name))
            if found is None:
                if not create:
                    raise ApiError(404, "Not Found")
                found = Environment(self.next_id(), repo.full_name, name, self.now_iso())
                self.environments[(repo.full_name, name)] = found
            return found

    def protect_environment(self, full_name: str, name: str, app_slug: str) -> Environment:
        """Enable an App as a custom deployment protection rule of the environment."""
        env = self.environment(full_name, name, create=True)
        if app_slug not in env.protection_apps:
            env.protection_apps.append(app_slug)
        return env

    def create_deployment(
        self,
        full_name: str,
        ref: str,
        *,
        user: str,
        task: str = "deploy",
        environment: str = "production",
        payload: dict[str, Any] | str = "",
        description: str | None = "",
        production_environment: bool | None = None,
        transient_environment: bool = False,
        required_contexts: list[str] | None = None,
    ) -> Deployment:
        repo = self.repo(full_name)
        with self.lock:
            sha = repo.store.resolve(ref, repo.default_branch)
            if sha is None:
                raise ApiError(422, f"No ref found for: {ref}")
            if required_contexts is None:
                # GitHub verifies every context reported on the commit unless told otherwise.
                required_contexts = sorted({s.context for s in self.statuses if s.sha == sha})
            latest = {s.context: s.state for s in self.statuses if s.sha == sha}
            failing = [c for c in required_contexts if latest.get(c) != "success"]
            if failing:
                raise ApiError(409, f"Conflict: failed commit status checks: {', '.join(failing)}")
            self.environment(full_name, environment, create=True)
            dep = Deployment(
                self.next_id(),
                repo.full_name,
                sha,
                ref,
                task,
                environment,
                payload if payload is not None else "",
                description,
                user,
                self.now_iso(),
                environment == "production"
                if production_environment is None
                else production_environment,
                transient_environment,
            )
            self.deployments[dep.id] = dep
            return dep

    def add_deployment_status(
        self,
        dep: Deployment,
        state: str,
        *,
        user: str,
        description: str | None = None,
        log_url: str | None = None,
        environment_url: str | None = None,
        auto_inactive: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            status = {
                "id": self.next_id(),
                "state": state,
                "description": description,
                "log_url": log_url,
                "environment_url": environment_url,
                "creator": user,
                "created_at": self.now_iso(),
            }
            dep.statuses.append(status)
            if state == "success" and auto_inactive:
                for other in self.deployments.values():
                    if (
                        other.id != dep.id
                        and other.repo == dep.repo
                        and other.environment == dep.environment
                        and not other.transient_environment
                        and not other.production_environment
                        and other.statuses
                        and other.statuses[-1]["state"] == "success"
                    ):
                        self.add_deployment_status(
                            other, "inactive", user=user, auto_inactive=False
                        )
            return status

    def deployments_of(self, full_name: str, environment: str | None = None) -> list[Deployment]:
        """A repository's deployments, newest first (as GitHub lists them)."""
        repo = self.repo(full_name)
        found = [
            d
            for d in self.deployments.values()
            if d.repo == repo.full_name and (environment is None or d.environment == environment)
        ]
        return sorted(found, key=lambda d: -d.id)

    @staticmethod
    def state_of(dep: Deployment) -> str | None:
        return dep.statuses[-1]["state"] if dep.statuses else None

    # -- a deploy job waiting on custom protection rules -------------------------------------
    def request_deployment_gate(
        self,
        full_name: str,
        environment: str,
        *,
        ref: str,
        user: str,
        payload: dict[str, Any] | str = "",
        pull_numbers: list[int] | None = None,
    ) -> int:
        """A workflow job with `environment:` starts: GitHub creates its deployment and asks
        each App protecting the environment (`deployment_protection_rule.requested`).
        Returns the run id; the answers land in `gate_requests[run_id].reviews`."""
        repo = self.repo(full_name)
        with self.lock:
            env = self.environment(full_name, environment)
            sha = repo.store.resolve(ref, repo.default_branch)
            if sha is None:
                raise KeyError(f"no commit for {ref!r} in {full_name}")
            dep = self.create_deployment(
                full_name,
                ref,
                user=user,
                environment=environment,
                payload=payload,
                required_contexts=[],
            )
            self.add_deployment_status(dep, "pending", user=user, auto_inactive=False)
            run_id = self.next_id()
            full_ref = ref if ref.startswith("refs/") else f"refs/heads/{ref}"
            self.gate_requests[run_id] = GateRequest(
                run_id, repo.full_name, environment, sha, full_ref, dep.id
            )
            if not env.protection_apps:
                return run_id
            self._emit(
                "deployment_protection_rule",
                "requested",
                repo,
                user,
                environment=environment,
                event="workflow_dispatch",
                sha=sha,
                ref=full_ref,
                deployment_callback_url=(
                    f"{self.url}/repos/{repo.full_name}/actions/runs/{run_id}"
                    "/deployment_protection_rule"
                ),
                deployment=self.render.deployment(dep),
                pull_requests=[
                    self.render.pull(self.issue(full_name, n)) for n in pull_numbers or []
                ],
            )
            return run_id

    def review_deployment_gate(
        self, run_id: int, app_slug: str, environment: str, state: str, comment: str | None
    ) -> None:
        with self.lock:
            gate = self.gate_requests.get(run_id)
            if gate is None:
                raise ApiError(404, "Not Found")
            env = self.environment(gate.repo, environment)
            if gate.environment != environment or app_slug not in env.protection_apps:
                # GitHub: an App reviews only its own rules, on the environments it protects.
                raise ApiError(422, f"No pending deployment protection rule for {environment}")
            if any(app == app_slug for app, _, _ in gate.reviews):
                raise ApiError(422, "This deployment protection rule was already reviewed")
            gate.reviews.append((app_slug, state, comment))
            dep = self.deployments.get(gate.deployment_id or -1)
            if dep is not None:
                verdict = "queued" if state == "approved" else "failure"
                self.add_deployment_status(
                    dep, verdict, user=f"{app_slug}[bot]", description=comment, auto_inactive=False
                )
