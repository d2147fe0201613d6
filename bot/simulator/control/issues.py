"""Issues, labels and issue comments."""

from __future__ import annotations

from bot.simulator.control.repos import ReposControl
from bot.simulator.state import Comment, Issue, Label, Repo


class IssuesControl(ReposControl):
    def _new_issue(self, repo: Repo, title: str, body: str | None, user: str) -> Issue:
        number = self._next_number[repo.full_name]
        self._next_number[repo.full_name] = number + 1
        now = self.now_iso()
        issue = Issue(repo.full_name, number, self.next_id(), title, body, user, now, now)
        self._issues[(repo.full_name, number)] = issue
        return issue

    def ensure_label(self, repo: Repo, name: str) -> Label:
        label = repo.labels.get(name)
        if label is None:
            label = Label(self.next_id(), name, updated_at=self.now())
            repo.labels[name] = label
        return label

    def create_issue(
        self,
        full_name: str,
        title: str,
        body: str | None = None,
        *,
        user: str,
        labels: list[str] | None = None,
    ) -> int:
        repo = self.repo(full_name)
        with self.lock:
            issue = self._new_issue(repo, title, body, user)
            for name in labels or []:
                self.ensure_label(repo, name)
                issue.labels.append(name)
            self._emit("issues", "opened", repo, user, issue=self.render.issue(issue))
            for name in labels or []:
                self._emit(
                    "issues",
                    "labeled",
                    repo,
                    user,
                    issue=self.render.issue(issue),
                    label=self.render.label(repo, repo.labels[name]),
                )
            return issue.number

    def add_labels(self, full_name: str, number: int, labels: list[str], *, user: str) -> None:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            for name in labels:
                if name in issue.labels:
                    continue
                label = self.ensure_label(repo, name)
                issue.labels.append(name)
                issue.updated_at = self.now_iso()
                self._announce_issue(
                    repo, issue, "labeled", user, label=self.render.label(repo, label)
                )

    def set_issue_state(
        self, full_name: str, number: int, state: str, *, user: str, reason: str | None = None
    ) -> None:
        repo = self.repo(full_name)
        with self.lock:
            issue = self.issue(full_name, number)
            if issue.state == state:
                return
            issue.state = state
            issue.updated_at = self.now_iso()
            issue.closed_at = issue.updated_at if state == "closed" else None
            issue.state_reason = (reason or "completed") if state == "closed" else "reopened"
            self._announce_issue(repo, issue, "closed" if state == "closed" else "reopened", user)

    def comment(self, full_name: str, number: int, body: str, *, user: str) -> int:
        repo = self.repo(full_name)
        with self.lock:
            return self._create_comment(repo, self.issue(full_name, number), body, user).id

    def _create_comment(self, repo: Repo, issue: Issue, body: str, user: str) -> Comment:
        now = self.now_iso()
        comment = Comment(self.next_id(), repo.full_name, issue.number, user, body, now, now)
        self.comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        issue.updated_at = now  # as on GitHub, a new comment updates its issue
        self._emit(
            "issue_comment",
            "created",
            repo,
            user,
            issue=self.render.issue(issue),
            comment=self.render.comment(comment),
        )
        return comment

    def edit_comment(self, comment_id: int, body: str, *, user: str) -> None:
        with self.lock:
            comment = self.comments[comment_id]
            self._edit_comment(comment, body, user)

    def _edit_comment(self, comment: Comment, body: str, user: str) -> None:
        old = comment.body
        comment.body = body
        comment.updated_at = self.now_iso()
        repo = self.repo(comment.repo)
        issue = self.issue(comment.repo, comment.issue_number)
        self._emit(
            "issue_comment",
            "edited",
            repo,
            user,
            issue=self.render.issue(issue),
            comment=self.render.comment(comment),
            changes={"body": {"from": old}},
        )

    def comments_on(self, full_name: str, number: int) -> list[Comment]:
        issue = self.issue(full_name, number)
        return [self.comments[i] for i in issue.comment_ids if i in self.comments]
