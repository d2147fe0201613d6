"""GitHub Actions: workflow runs and their artifacts."""

from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from typing import Any

from bot.simulator.control.people import PeopleControl
from bot.simulator.render import iso
from bot.simulator.state import Artifact, WorkflowRun


class ActionsControl(PeopleControl):
    def create_workflow_run(
        self,
        full_name: str,
        *,
        name: str,
        head_sha: str,
        head_branch: str,
        path: str | None = None,
        event: str = "pull_request",
        pull_numbers: list[int] | None = None,
        artifacts: dict[str, dict[str, bytes | str]] | None = None,
        conclusion: str | None = "success",
        actor: str | None = None,
        head_repo: str | None = None,
    ) -> int:
        """A workflow run with zip artifacts, completed (and announced) unless conclusion=None."""
        repo = self.repo(full_name)
        with self.lock:
            number = 1 + sum(1 for r in self.workflow_runs.values() if r.repo == repo.full_name)
            now = self.now_iso()
            workflow_path = path or f".github/workflows/{name.lower().replace(' ', '-')}.yml"
            run = WorkflowRun(
                self.next_id(),
                repo.full_name,
                name,
                workflow_path,
                int(hashlib.sha1(workflow_path.encode()).hexdigest()[:6], 16),  # noqa: S324 - an id, not security
                head_sha,
                head_branch,
                head_repo or repo.full_name,
                event,
                actor or repo.owner,
                number,
                now,
                now,
                "in_progress",
                None,
                list(pull_numbers or []),
            )
            self.workflow_runs[run.id] = run
            # GitHub announces a run when it starts (requested, then in_progress): the
            # one event here is in_progress, which is what a check "in progress" follows.
            self._emit(
                "workflow_run",
                "in_progress",
                repo,
                run.actor,
                workflow_run=self.render.workflow_run(run),
                workflow=self._workflow_json(run),
            )
            for art_name, files in (artifacts or {}).items():
                buf = io.BytesIO()
                with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                    for fname, data in files.items():
                        zf.writestr(fname, data)
                art = Artifact(
                    self.next_id(),
                    repo.full_name,
                    run.id,
                    art_name,
                    buf.getvalue(),
                    now,
                    iso(self.now() + 90 * 86400),
                )
                self.artifacts[art.id] = art
                run.artifact_ids.append(art.id)
            if conclusion is not None:
                self.complete_workflow_run(run.id, conclusion)
            return run.id

    def complete_workflow_run(self, run_id: int, conclusion: str = "success") -> None:
        with self.lock:
            run = self.workflow_runs[run_id]
            run.status, run.conclusion, run.updated_at = "completed", conclusion, self.now_iso()
            repo = self.repo(run.repo)
            self._emit(
                "workflow_run",
                "completed",
                repo,
                run.actor,
                workflow_run=self.render.workflow_run(run),
                workflow=self._workflow_json(run),
            )

    def _workflow_json(self, run: WorkflowRun) -> dict[str, Any]:
        repo = self.repo(run.repo)
        out = self.spec.skeleton("/components/schemas/workflow")
        out.update(
            id=run.workflow_id,
            node_id=self.render._node("Workflow", run.workflow_id),
            name=run.name,
            path=run.path,
            state="active",
            created_at=run.created_at,
            updated_at=run.updated_at,
            url=f"{self.url}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
            html_url=f"{self.url}/_web/{repo.full_name}/blob/{repo.default_branch}/{run.path}",
            badge_url=f"{self.url}/_web/{repo.full_name}/workflows/{run.name}/badge.svg",
        )
        return out

    def workflow_token(self, full_name: str) -> str:
        """A workflow's `GITHUB_TOKEN` for `full_name`: github-actions[bot], able to write there.

        (On GitHub it is an installation token of the Actions App, scoped to the one
        repository; here, a token of that login with write access to it.)
        """
        repo = self.repo(full_name)
        login = "github-actions[bot]"
        self.user(login, "Bot")
        repo.collaborators[login] = "write"
        return self.add_token(login)

    def artifact_download_url(self, art: Artifact) -> str:
        key = self._download_keys.setdefault(art.id, secrets.token_urlsafe(16))
        return f"{self.url}/_sim/artifacts/{art.id}/{key}.zip"
