"""Deployments, their statuses, and environments."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase
from bot.simulator.state import Deployment, Environment


class DeploymentsJSON(RenderBase):
    def deployment(self, dep: Deployment) -> dict[str, Any]:
        repo = self.sim.repo(dep.repo)
        url = f"{self.api}/repos/{repo.full_name}/deployments/{dep.id}"
        updated = dep.statuses[-1]["created_at"] if dep.statuses else dep.created_at
        return {
            "url": url,
            "id": dep.id,
            "node_id": self._node("Deployment", dep.id),
            "sha": dep.sha,
            "ref": dep.ref,
            "task": dep.task,
            "payload": dep.payload,
            "original_environment": dep.environment,
            "environment": dep.environment,
            "description": dep.description,
            "creator": self.user(dep.creator),
            "created_at": dep.created_at,
            "updated_at": updated,
            "statuses_url": f"{url}/statuses",
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "transient_environment": dep.transient_environment,
            "production_environment": dep.production_environment,
        }

    def deployment_status(self, dep: Deployment, status: dict[str, Any]) -> dict[str, Any]:
        repo = self.sim.repo(dep.repo)
        url = f"{self.api}/repos/{repo.full_name}/deployments/{dep.id}"
        return {
            "url": f"{url}/statuses/{status['id']}",
            "id": status["id"],
            "node_id": self._node("DeploymentStatus", status["id"]),
            "state": status["state"],
            "creator": self.user(status["creator"]),
            "description": status.get("description") or "",
            "environment": dep.environment,
            "target_url": status.get("log_url") or "",
            "log_url": status.get("log_url") or "",
            "environment_url": status.get("environment_url") or "",
            "created_at": status["created_at"],
            "updated_at": status["created_at"],
            "deployment_url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
        }

    def environment(self, env: Environment) -> dict[str, Any]:
        repo = self.sim.repo(env.repo)
        return {
            "id": env.id,
            "node_id": self._node("Environment", env.id),
            "name": env.name,
            "url": f"{self.api}/repos/{repo.full_name}/environments/{env.name}",
            "html_url": f"{self.web}/{repo.full_name}/deployments/{env.name}",
            "created_at": env.created_at,
            "updated_at": env.created_at,
            # Custom (App) rules are listed by their own endpoint, not here.
            "protection_rules": [],
            "deployment_branch_policy": None,
        }
