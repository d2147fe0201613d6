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
        output = {"title": None, "summary": None, "text": None}
        output.update({k: v for k, v in run.output.items() if k in {"title", "summary", "text"}})
        output["annotations_count"] = len(run.annotations)
        output["annotations_url"] = f"{url}/annotations"
        # As GitHub: the open PRs of this repository whose head is the run's commit.
        pulls = [
            self.pull_minimal(i)
            for i in self.sim.issues(repo.full_name)
            if i.pull is not None
            and i.state == "open"
            and i.pull.head_sha == run.head_sha
            and i.pull.head_repo == repo.full_name
        ]
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
            pull_requests=pulls,
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

    def check_suite_of(self, run: CheckRun) -> dict[str, Any]:
        """The simple check suite a check-run webhook carries (one suite per run here)."""
        repo = self.sim.repo(run.repo)
        data = self.check_run(run)
        return {
            "id": run.id,
            "node_id": self._node("CheckSuite", run.id),
            "head_sha": run.head_sha,
            "head_branch": None,
            "status": run.status,
            "conclusion": run.conclusion,
            "url": f"{self.api}/repos/{repo.full_name}/check-suites/{run.id}",
            "before": None,
            "after": run.head_sha,
            "pull_requests": data["pull_requests"],
            "app": data["app"],
            "repository": self.repo(repo, "minimal-repository"),
            "created_at": run.started_at,
            "updated_at": run.completed_at or run.started_at,
        }

    def annotation(self, note: dict[str, Any]) -> dict[str, Any]:
        return {
            "path": note["path"],
            "start_line": note["start_line"],
            "end_line": note["end_line"],
            "start_column": note.get("start_column"),
            "end_column": note.get("end_column"),
            "annotation_level": note.get("annotation_level"),
            "title": note.get("title"),
            "message": note.get("message"),
            "raw_details": note.get("raw_details"),
            "blob_href": "",
        }
