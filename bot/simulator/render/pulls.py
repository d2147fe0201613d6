"""Pull requests and reviews."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase
from bot.simulator.state import (
    Issue,
    Repo,
    Review,
)


class PullsJSON(RenderBase):
    def _branch(self, full_name: str, ref: str, sha: str) -> dict[str, Any]:
        repo = self.sim.repo(full_name)
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo, "repository"),
        }

    def pull(self, issue: Issue) -> dict[str, Any]:
        assert issue.pull is not None
        p = issue.pull
        repo = self.sim.repo(issue.repo)
        base = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
        issue_url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        html = f"{self.web}/{repo.full_name}/pull/{issue.number}"
        out = self._schema("pull-request")
        links = {
            "self": {"href": base},
            "html": {"href": html},
            "issue": {"href": issue_url},
            "comments": {"href": f"{issue_url}/comments"},
            "review_comments": {"href": f"{base}/comments"},
            "review_comment": {
                "href": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}"
            },
            "commits": {"href": f"{base}/commits"},
            "statuses": {"href": f"{self.api}/repos/{repo.full_name}/statuses/{p.head_sha}"},
        }
        out.update(
            id=issue.id,
            node_id=self._node("PullRequest", issue.id),
            url=base,
            html_url=html,
            diff_url=f"{html}.diff",
            patch_url=f"{html}.patch",
            issue_url=issue_url,
            commits_url=f"{base}/commits",
            review_comments_url=f"{base}/comments",
            review_comment_url=f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            comments_url=f"{issue_url}/comments",
            statuses_url=f"{self.api}/repos/{repo.full_name}/statuses/{p.head_sha}",
            number=issue.number,
            state=issue.state,
            locked=False,
            title=issue.title,
            body=issue.body,
            user=self.user(issue.user),
            labels=[self.label(repo, repo.labels[n]) for n in issue.labels],
            milestone=None,
            active_lock_reason=None,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_at=issue.closed_at,
            merged_at=p.merged_at,
            merge_commit_sha=p.merge_commit_sha,
            assignee=None,
            assignees=[],
            requested_reviewers=[],
            requested_teams=[],
            head=self._branch(p.head_repo, p.head_ref, p.head_sha),
            base=self._branch(issue.repo, p.base_ref, p.base_sha),
            _links=links,
            author_association=self.sim.association(repo, issue.user),
            auto_merge=None,
            draft=p.draft,
            merged=p.merged,
            mergeable=None if p.merged else True,
            rebaseable=None,
            mergeable_state="clean",
            merged_by=self.user(p.merged_by) if p.merged_by else None,
            comments=len(issue.comment_ids),
            review_comments=0,
            maintainer_can_modify=False,
            commits=1,
            additions=0,
            deletions=0,
            changed_files=0,
        )
        return out

    def pull_simple(self, issue: Issue) -> dict[str, Any]:
        """A pull request as lists show it (`pull-request-simple`)."""
        full = self.pull(issue)
        skeleton = self._schema("pull-request-simple")
        return {
            k: full.get(k, v)
            for k, v in {**skeleton, **full}.items()
            if k in skeleton
            or k in {"draft", "auto_merge", "active_lock_reason", "author_association"}
        }

    def review(self, review: Review) -> dict[str, Any]:
        repo = self.sim.repo(review.repo)
        pr = f"{self.api}/repos/{repo.full_name}/pulls/{review.number}"
        html = f"{self.web}/{repo.full_name}/pull/{review.number}#pullrequestreview-{review.id}"
        out = self._schema("pull-request-review")
        out.update(
            id=review.id,
            node_id=self._node("PullRequestReview", review.id),
            user=self.user(review.user),
            body=review.body,
            state=review.state,
            commit_id=review.commit_id,
            html_url=html,
            pull_request_url=pr,
            _links={"html": {"href": html}, "pull_request": {"href": pr}},
            submitted_at=review.submitted_at,
            author_association=self.sim.association(repo, review.user),
        )
        return out

    def review_event(self, review: Review) -> dict[str, Any]:
        """A review as webhooks carry it: the same object, its state in lower case."""
        out = self.review(review)
        out["state"] = review.state.lower()
        return out

    def pull_minimal(self, issue: Issue) -> dict[str, Any]:
        """The short pull request of workflow runs and check runs (`pull-request-minimal`)."""
        assert issue.pull is not None
        repo = self.sim.repo(issue.repo)
        head_repo = self.sim.repo(issue.pull.head_repo)

        def side(ref: str, sha: str, of: Repo) -> dict[str, Any]:
            url = f"{self.api}/repos/{of.full_name}"
            return {"ref": ref, "sha": sha, "repo": {"id": of.id, "url": url, "name": of.name}}

        return {
            "id": issue.id,
            "number": issue.number,
            "url": f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}",
            "head": side(issue.pull.head_ref, issue.pull.head_sha, head_repo),
            "base": side(issue.pull.base_ref, issue.pull.base_sha, repo),
        }
