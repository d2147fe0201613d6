"""Issues, comments, labels and reactions."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase
from bot.simulator.state import (
    Comment,
    Issue,
    Label,
    Reaction,
    Repo,
)

_REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "eyes", "rocket")


class IssuesJSON(RenderBase):
    def _reactions(self, url: str, reactions: list[Reaction]) -> dict[str, Any]:
        out: dict[str, Any] = {k: 0 for k in _REACTIONS}
        for r in reactions:
            out[r.content] += 1
        out.update(url=url, total_count=len(reactions))
        return out

    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        out = self._schema("label")
        out.update(
            id=label.id,
            node_id=self._node("Label", label.id),
            url=f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            name=label.name,
            color=label.color,
            description=label.description,
            default=False,
        )
        return out

    def issue(self, issue: Issue) -> dict[str, Any]:
        repo = self.sim.repo(issue.repo)
        base = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.pull else "issues"
        out = self._schema("issue")
        out.update(
            id=issue.id,
            node_id=self._node("Issue", issue.id),
            url=base,
            repository_url=f"{self.api}/repos/{repo.full_name}",
            labels_url=f"{base}/labels{{/name}}",
            comments_url=f"{base}/comments",
            events_url=f"{base}/events",
            timeline_url=f"{base}/timeline",
            html_url=f"{self.web}/{repo.full_name}/{kind}/{issue.number}",
            performed_via_github_app=None,
            number=issue.number,
            state=issue.state,
            state_reason=issue.state_reason,
            title=issue.title,
            body=issue.body,
            user=self.user(issue.user),
            labels=[self.label(repo, repo.labels[name]) for name in issue.labels],
            assignee=None,
            assignees=[],
            milestone=None,
            locked=False,
            active_lock_reason=None,
            comments=len(issue.comment_ids),
            closed_at=issue.closed_at,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_by=None,
            author_association=self.sim.association(repo, issue.user),
            reactions=self._reactions(f"{base}/reactions", issue.reactions),
        )
        if issue.pull:
            pr = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
            out["pull_request"] = {
                "url": pr,
                "html_url": f"{self.web}/{repo.full_name}/pull/{issue.number}",
                "diff_url": f"{self.web}/{repo.full_name}/pull/{issue.number}.diff",
                "patch_url": f"{self.web}/{repo.full_name}/pull/{issue.number}.patch",
                "merged_at": issue.pull.merged_at,
            }
        return out

    def comment(self, comment: Comment) -> dict[str, Any]:
        repo = self.sim.repo(comment.repo)
        issue = self.sim.issue(comment.repo, comment.issue_number)
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        out = self._schema("issue-comment")
        kind = "pull" if issue.pull else "issues"
        out.update(
            id=comment.id,
            node_id=self._node("IssueComment", comment.id),
            url=url,
            html_url=f"{self.web}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
            issue_url=f"{self.api}/repos/{repo.full_name}/issues/{issue.number}",
            body=comment.body,
            user=self.user(comment.user),
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            author_association=self.sim.association(repo, comment.user),
            reactions=self._reactions(f"{url}/reactions", comment.reactions),
        )
        return out

    def reaction(self, reaction: Reaction) -> dict[str, Any]:
        out = self._schema("reaction")
        out.update(
            id=reaction.id,
            node_id=self._node("Reaction", reaction.id),
            user=self.user(reaction.user),
            content=reaction.content,
            created_at=reaction.created_at,
        )
        return out
