"""Check runs and commit statuses."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase
from bot.simulator.state import (
    CheckRun,
    CommitStatus,
)


class ChecksJSON(RenderBase):
    def check_run(self, run: CheckRun) -> dict[str, Any]:
        repo = self.sim.repo(run.repo)
        url = f"{self.api}/repos/{repo.full_name}/check-runs/{run.id}"
        out = self._schema("check-run")
        output = {"title": None, "summary": None, "text": None, "annotations_count": 0}
        output.update({k: v for k, v in run.output.items() if k in {"title", "summary", "text"}})
        output["annotations_url"] = f"{url}/annotations"
        out.update(
            id=run.id,
            node_id=self._node("CheckRun", run.id),
            head_sha=run.head_sha,
            name=run.name,
            url=url,
            html_url=f"{self.web}/{repo.full_name}/runs/{run.id}",
            details_url=run.details_url,
            status=run.status,
            conclusion=run.conclusion,
            started_at=run.started_at,
            completed_at=run.completed_at,
            external_id=run.external_id,
            check_suite={"id": run.id},
            output=output,
            app=self.sim.app_json(run.app_slug),
            pull_requests=[],
        )
        return out

    def status(self, status: CommitStatus) -> dict[str, Any]:
        repo = self.sim.repo(status.repo)
        out = self._schema("status")
        out.update(
            id=status.id,
            node_id=self._node("StatusContext", status.id),
            url=f"{self.api}/repos/{repo.full_name}/statuses/{status.sha}",
            avatar_url=None,
            state=status.state,
            description=status.description,
            target_url=status.target_url,
            context=status.context,
            created_at=status.created_at,
            updated_at=status.created_at,
            creator=self.user(status.creator),
        )
        return out
