"""Check runs and commit statuses, as other CI systems would post them."""

from __future__ import annotations

from bot.simulator.state import CheckRun, CommitStatus
from bot.simulator.webhooks import WebhookEmitter


class ChecksControl(WebhookEmitter):
    def create_check_run(
        self,
        full_name: str,
        sha: str,
        name: str,
        *,
        conclusion: str | None = "success",
        app: str = "github-actions",
    ) -> int:
        repo = self.repo(full_name)
        now = self.now_iso()
        run = CheckRun(
            self.next_id(),
            repo.full_name,
            name,
            sha,
            "completed" if conclusion else "in_progress",
            conclusion,
            now,
            now if conclusion else None,
            app,
        )
        self.check_runs[run.id] = run
        return run.id

    def set_status(
        self, full_name: str, sha: str, context: str, state: str, *, user: str | None = None
    ) -> None:
        repo = self.repo(full_name)
        self.statuses.append(
            CommitStatus(
                self.next_id(),
                repo.full_name,
                sha,
                state,
                context,
                None,
                None,
                self.now_iso(),
                user or repo.owner,
            )
        )
