"""A merge queue: a PR enters it, GitHub builds the group's commit and asks for checks.

The group's commit merges the PR's head into the base branch's head, on the branch
`gh-readonly-queue/<base>/pr-<number>-<the PR's head SHA>`, as GitHub names it; then
`merge_group.checks_requested` is sent, and the queue waits for the required checks
on that commit.
"""

from __future__ import annotations

from bot.simulator.request import ApiError
from bot.simulator.webhooks import WebhookEmitter


class MergeQueueControl(WebhookEmitter):
    def enqueue_pr(self, full_name: str, number: int, *, user: str) -> str:
        """Put an open PR in the merge queue; returns the merge group's head SHA."""
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            p = issue.pull
            if p is None or issue.state != "open":
                raise ApiError(422, "Only an open pull request can be queued")
            base_sha = repo.store.ref_sha(f"heads/{p.base_ref}")
            assert base_sha is not None
            text = f"Merge pull request #{number} from {p.head_ref}\n\n{issue.title}"
            sha = repo.store.merge(base_sha, p.head_sha, text, self.person(user), squash=False)
            if sha is None:
                raise ApiError(422, "The pull request cannot be merged cleanly")
            branch = f"gh-readonly-queue/{p.base_ref}/pr-{number}-{p.head_sha}"
            repo.store.set_ref(f"heads/{branch}", sha, force=True)
            commit = self.render.git_commit(repo, sha)
            self._emit(
                "merge_group",
                "checks_requested",
                repo,
                user,
                merge_group={
                    "head_sha": sha,
                    "head_ref": f"refs/heads/{branch}",
                    "base_sha": base_sha,
                    "base_ref": f"refs/heads/{p.base_ref}",
                    "head_commit": {
                        "id": sha,
                        "tree_id": commit["tree"]["sha"],
                        "message": commit["message"],
                        "timestamp": commit["committer"]["date"],
                        "author": {
                            "name": commit["author"]["name"],
                            "email": commit["author"]["email"],
                        },
                        "committer": {
                            "name": commit["committer"]["name"],
                            "email": commit["committer"]["email"],
                        },
                    },
                },
            )
            return sha
