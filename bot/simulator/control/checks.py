"""Check runs and commit statuses, as other CI systems would post them."""

from __future__ import annotations

from typing import Any

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

    # -- people acting on an App's check run -------------------------------------------------
    def _check_run_event(self, run_id: int, action: str, user: str, **extra: Any) -> None:
        run = self.check_runs[run_id]
        repo = self.repo(run.repo)
        data = self.render.check_run(run)
        data["check_suite"] = self.render.check_suite_of(run)
        # Strings in webhooks, never null (the REST schema allows null).
        data["external_id"] = run.external_id or ""
        data["details_url"] = run.details_url or ""
        self._emit("check_run", action, repo, user, check_run=data, **extra)

    def rerun_check_run(self, run_id: int, *, user: str) -> None:
        """Someone pressed "Re-run" on a completed check run: `check_run.rerequested`."""
        with self.lock:
            run = self.check_runs[run_id]
            if run.status != "completed":
                raise ValueError("GitHub offers Re-run only on a completed check run")
            self._check_run_event(run_id, "rerequested", user)

    def press_check_action(self, run_id: int, identifier: str, *, user: str) -> None:
        """Someone clicked a button the App put on its check run: `check_run.requested_action`.

        Only the buttons the run declares can be clicked; who clicked is the App's to
        judge (the payload's `sender`).
        """
        with self.lock:
            run = self.check_runs[run_id]
            if identifier not in [a.get("identifier") for a in run.actions]:
                raise ValueError(f"check run {run_id} offers no button {identifier!r}")
            self._check_run_event(
                run_id, "requested_action", user, requested_action={"identifier": identifier}
            )
