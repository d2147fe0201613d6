"""Workflow runs and artifacts."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase, iso
from bot.simulator.state import (
    Artifact,
    WorkflowRun,
)


class ActionsJSON(RenderBase):
    def workflow_run(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.sim.repo(run.repo)
        head_repo = self.sim.repo(run.head_repo)
        base = f"{self.api}/repos/{repo.full_name}/actions/runs/{run.id}"
        out = self._schema("workflow-run")
        head_commit = None
        try:
            commit = repo.store.get(run.head_sha)
            head_commit = {
                "id": run.head_sha,
                "tree_id": str(commit.tree_id),
                "message": commit.message,
                "timestamp": iso(commit.commit_time),
                "author": {"name": commit.author.name, "email": commit.author.email},
                "committer": {"name": commit.committer.name, "email": commit.committer.email},
            }
        except Exception:
            head_commit = None
        # GitHub leaves `pull_requests` empty for runs whose head is in a fork.
        pulls = [
            self.pull_minimal(self.sim.issue(run.repo, number))
            for number in ([] if run.head_repo != run.repo else run.pull_numbers)
        ]
        out.update(
            id=run.id,
            node_id=self._node("WorkflowRun", run.id),
            name=run.name,
            head_branch=run.head_branch,
            head_sha=run.head_sha,
            path=run.path,
            display_title=run.name,
            run_number=run.run_number,
            run_attempt=1,
            event=run.event,
            status=run.status,
            conclusion=run.conclusion,
            workflow_id=run.workflow_id,
            url=base,
            html_url=f"{self.web}/{repo.full_name}/actions/runs/{run.id}",
            pull_requests=pulls,
            created_at=run.created_at,
            updated_at=run.updated_at,
            run_started_at=run.created_at,
            actor=self.user(run.actor),
            triggering_actor=self.user(run.actor),
            jobs_url=f"{base}/jobs",
            logs_url=f"{base}/logs",
            check_suite_url=f"{self.api}/repos/{repo.full_name}/check-suites/{run.id}",
            artifacts_url=f"{base}/artifacts",
            cancel_url=f"{base}/cancel",
            rerun_url=f"{base}/rerun",
            workflow_url=f"{self.api}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
            head_commit=head_commit,
            repository=self.repo(repo, "minimal-repository"),
            head_repository=self.repo(head_repo, "minimal-repository"),
        )
        return out

    def artifact(self, art: Artifact) -> dict[str, Any]:
        repo = self.sim.repo(art.repo)
        run = self.sim.workflow_runs[art.run_id]
        url = f"{self.api}/repos/{repo.full_name}/actions/artifacts/{art.id}"
        out = self._schema("artifact")
        out.update(
            id=art.id,
            node_id=self._node("Artifact", art.id),
            name=art.name,
            size_in_bytes=len(art.data),
            url=url,
            archive_download_url=f"{url}/zip",
            expired=art.expired,
            created_at=art.created_at,
            expires_at=art.expires_at,
            updated_at=art.created_at,
            workflow_run={
                "id": run.id,
                "repository_id": repo.id,
                "head_repository_id": self.sim.repo(run.head_repo).id,
                "head_branch": run.head_branch,
                "head_sha": run.head_sha,
            },
        )
        return out
