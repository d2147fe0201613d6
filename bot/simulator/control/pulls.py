"""Pull requests: opening, following their heads, merging, reviews."""

from __future__ import annotations

import re

from bot.simulator.control.issues import IssuesControl
from bot.simulator.request import ApiError
from bot.simulator.signing import WEB_FLOW
from bot.simulator.state import Issue, PullInfo, Repo, Review


class PullsControl(IssuesControl):
    def open_pr(
        self,
        full_name: str,
        head: str,
        *,
        user: str,
        title: str = "Change",
        body: str | None = None,
        base: str | None = None,
        head_repo: str | None = None,
        draft: bool = False,
    ) -> int:
        repo = self.repo(full_name)
        source = self.repo(head_repo) if head_repo else repo
        with self.lock:
            base_ref = base or repo.default_branch
            head_sha = source.store.ref_sha(f"heads/{head}")
            base_sha = repo.store.ref_sha(f"heads/{base_ref}")
            if head_sha is None or base_sha is None:
                raise ApiError(
                    422, "Validation Failed", [{"resource": "PullRequest", "code": "invalid"}]
                )
            issue = self._new_issue(repo, title, body, user)
            issue.pull = PullInfo(source.full_name, head, head_sha, base_ref, base_sha, draft=draft)
            self._update_pull_ref(repo, issue)
            self._emit(
                "pull_request",
                "opened",
                repo,
                user,
                number=issue.number,
                pull_request=self.render.pull(issue),
            )
            return issue.number

    def _update_pull_ref(self, repo: Repo, issue: Issue) -> None:
        assert issue.pull is not None
        source = self.repo(issue.pull.head_repo)
        if source is repo:
            repo.store.set_ref(f"pull/{issue.number}/head", issue.pull.head_sha, force=True)
        else:
            repo.store.fetch_from(
                source.store, f"heads/{issue.pull.head_ref}", f"pull/{issue.number}/head"
            )

    def _branch_moved(self, source: Repo, branch: str, sha: str, user: str) -> None:
        """Every open pull request whose head is this branch moves with it (`synchronize`)."""
        super()._branch_moved(source, branch, sha, user)
        for issue in list(self._issues.values()):
            p = issue.pull
            if (
                p
                and issue.state == "open"
                and p.head_repo == source.full_name
                and p.head_ref == branch
                and p.head_sha != sha
            ):
                before, p.head_sha = p.head_sha, sha
                issue.updated_at = self.now_iso()
                repo = self.repo(issue.repo)
                self._update_pull_ref(repo, issue)
                self._emit(
                    "pull_request",
                    "synchronize",
                    repo,
                    user,
                    number=issue.number,
                    pull_request=self.render.pull(issue),
                    before=before,
                    after=sha,
                )

    def merge_pr(
        self,
        full_name: str,
        number: int,
        *,
        user: str,
        method: str = "merge",
        message: str | None = None,
    ) -> str:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            p = issue.pull
            if p is None or issue.state != "open":
                raise ApiError(405, "Pull Request is not mergeable")
            base_sha = repo.store.ref_sha(f"heads/{p.base_ref}")
            assert base_sha is not None
            text = message or f"Merge pull request #{number}\n\n{issue.title}"
            sha = repo.store.merge(
                base_sha,
                p.head_sha,
                text,
                self.person(user),
                squash=method == "squash",
                committer=WEB_FLOW,
            )
            if sha is None:
                raise ApiError(405, "Pull Request is not mergeable")
            self.signed_commits[sha] = self.now()  # GitHub writes and signs merge commits
            repo.store.set_ref(f"heads/{p.base_ref}", sha, force=False)
            p.merged, p.merged_at, p.merged_by, p.merge_commit_sha = True, self.now_iso(), user, sha
            issue.state, issue.closed_at, issue.updated_at = "closed", p.merged_at, p.merged_at
            self._announce_push(repo, f"refs/heads/{p.base_ref}", base_sha, sha, user)
            self._emit(
                "pull_request",
                "closed",
                repo,
                user,
                number=number,
                pull_request=self.render.pull(issue),
            )
            for closed in _closing_references(issue.body or ""):
                other = self._issues.get((repo.full_name, closed))
                if other and other.pull is None and other.state == "open":
                    self.set_issue_state(full_name, closed, "closed", user=user)
            return sha

    def submit_review(
        self,
        full_name: str,
        number: int,
        *,
        user: str,
        state: str = "APPROVED",
        body: str = "",
        commit_id: str | None = None,
    ) -> int:
        if state not in {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}:
            raise ValueError(f"unknown review state {state!r}")
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            assert issue.pull is not None, "reviews are for pull requests"
            review = Review(
                self.next_id(),
                repo.full_name,
                number,
                user,
                state,
                body,
                commit_id or issue.pull.head_sha,
                self.now_iso(),
            )
            self.reviews[review.id] = review
            self._emit(
                "pull_request_review",
                "submitted",
                repo,
                user,
                review=self.render.review_event(review),
                pull_request=self.render.pull(issue),
            )
            return review.id

    def dismiss_review(self, review_id: int, *, user: str, message: str = "Dismissed") -> None:
        with self.lock:
            review = self.reviews[review_id]
            review.state = "DISMISSED"
            repo = self.repo(review.repo)
            issue = self.issue(review.repo, review.number)
            self._emit(
                "pull_request_review",
                "dismissed",
                repo,
                user,
                review=self.render.review_event(review),
                pull_request=self.render.pull(issue),
            )


def _closing_references(body: str) -> list[int]:
    return [
        int(n)
        for n in re.findall(r"(?i)\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#(\d+)", body)
    ]
