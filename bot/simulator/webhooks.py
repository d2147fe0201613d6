"""Webhook emission: payloads built on the schema's skeleton, validated, queued for delivery."""

from __future__ import annotations

from typing import Any

import pygit2

from bot.simulator.delivery import Delivery
from bot.simulator.render import iso
from bot.simulator.request import ValidationFailure
from bot.simulator.signing import WEB_FLOW
from bot.simulator.state import Issue, Repo
from bot.simulator.world import World

# The organization fields a webhook payload carries (a subset of the REST object).
_ORG_FIELDS = (
    "login",
    "id",
    "node_id",
    "url",
    "repos_url",
    "events_url",
    "hooks_url",
    "issues_url",
    "members_url",
    "public_members_url",
    "avatar_url",
    "description",
)
# The caps of a `push` payload (the OpenAPI description of the webhook): "The array
# includes a maximum of 2048 commits", "A maximum of 3000 changed files will be reported
# per commit".
PUSH_COMMITS = 2048
PUSH_FILES = 3000


class WebhookEmitter(World):
    def set_webhook(self, url: str | None, secret: str | None) -> None:
        self.webhooks.url = url
        self.webhooks.secret = secret

    def wait_for_webhooks(self, timeout: float = 30.0) -> list[Delivery]:
        self.webhooks.wait(timeout)
        return list(self.webhooks.deliveries)

    def _announce_push(
        self, repo: Repo, ref: str, before: str | None, after: str, pusher: str
    ) -> None:
        """`push`, as GitHub sends it: every commit the push brings, as its author wrote it."""
        store = repo.store
        head = store.get(after).peel(pygit2.Commit)
        pushed = store.pushed_commits(before, str(head.id)) if ref.startswith("refs/heads/") else []
        new = {str(c.id) for c in pushed}
        who = self.user(pusher)
        if before is None:
            compare = f"{self.url}/_web/{repo.full_name}/commit/{after}"
        else:
            compare = f"{self.url}/_web/{repo.full_name}/compare/{before[:12]}...{after[:12]}"
        self._emit(
            "push",
            None,
            repo,
            pusher,
            ref=ref,
            before=before or "0" * 40,
            after=after,
            created=before is None,
            deleted=False,
            forced=before is not None and not store.is_ancestor(before, after),
            base_ref=None,
            compare=compare,
            # At most PUSH_COMMITS (which ones GitHub keeps is not documented: here the
            # oldest); the compare API lists them all.
            commits=[self._push_commit(repo, c, distinct=True) for c in pushed[:PUSH_COMMITS]],
            head_commit=self._push_commit(repo, head, distinct=str(head.id) in new),
            pusher={"name": who.login, "email": who.email},
        )

    def _push_commit(self, repo: Repo, commit: pygit2.Commit, *, distinct: bool) -> dict[str, Any]:
        sha = str(commit.id)
        return {
            "id": sha,
            "tree_id": str(commit.tree_id),
            "distinct": distinct,
            "message": commit.message,
            "timestamp": iso(commit.commit_time),
            "url": f"{self.url}/_web/{repo.full_name}/commit/{sha}",
            "author": self._git_identity(commit.author),
            "committer": self._git_identity(commit.committer),
            # At most PUSH_FILES paths of each kind, as GitHub documents.
            **{k: v[:PUSH_FILES] for k, v in repo.store.changed_paths(commit).items()},
        }

    def _git_identity(self, sig: pygit2.Signature) -> dict[str, str]:
        """A commit's author or committer; `username` only where GitHub knows the email."""
        out = {"name": sig.name, "email": sig.email}
        login = "web-flow" if sig.email == WEB_FLOW.email else self.user_for_email(sig.email)
        if login:
            out["username"] = login
        return out

    def _announce_issue(
        self, repo: Repo, issue: Issue, action: str, user: str, **extra: Any
    ) -> None:
        """`issues.<action>`, or `pull_request.<action>` when the issue is a pull request."""
        if issue.pull:
            self._emit(
                "pull_request",
                action,
                repo,
                user,
                number=issue.number,
                pull_request=self.render.pull(issue),
                **extra,
            )
        else:
            self._emit("issues", action, repo, user, issue=self.render.issue(issue), **extra)

    def _emit(
        self, event: str, action: str | None, repo: Repo | None, sender: str, /, **objects: Any
    ) -> None:
        # Positional-only: a payload may have a field named `event` (deployment_protection_rule).
        pointer = self.spec.webhook_pointer(event, action)
        payload: dict[str, Any] = self.spec.skeleton(pointer) if pointer else {}
        for key, value in objects.items():
            payload[key] = _deep_fill(payload.get(key), value)
        if action is not None:
            payload["action"] = action
        payload["sender"] = self.render.user(sender)
        if repo is None:  # account-level events (installation, ping) carry their own context
            self._check_and_send(pointer, event, action, payload)
            return
        payload["repository"] = _deep_fill(
            payload.get("repository"), self.render.repo(repo, "repository")
        )
        # GitHub's webhook repositories carry the custom properties (none here).
        payload["repository"].setdefault("custom_properties", {})
        if event == "push":
            payload["repository"]["created_at"] = int(self.now())
            payload["repository"]["pushed_at"] = int(self.now())
        inst = self.installation_for(repo)
        if inst is not None:
            payload["installation"] = {
                "id": inst.id,
                "node_id": self.render._node("Installation", inst.id),
            }
        else:
            payload.pop("installation", None)
        owner = self.user(repo.owner)
        if owner.type == "Organization":
            org = self.render.org(owner.login)
            payload["organization"] = {k: org[k] for k in _ORG_FIELDS}
        self._check_and_send(pointer, event, action, payload)

    def _check_and_send(
        self, pointer: str | None, event: str, action: str | None, payload: dict[str, Any]
    ) -> None:
        # Payloads nobody receives are not worth validating (bulk set-up of 1000 comments).
        if pointer and self.webhooks.url is not None:
            errors = self.spec.schema_errors(pointer, payload)
            if errors:
                self.validation_failures.append(
                    ValidationFailure("webhook", "POST", f"{event}.{action}", errors)
                )
        self.webhooks.enqueue(event, action, payload)


def _deep_fill(skeleton: Any, value: Any) -> Any:
    """`value`, with any field the webhook schema requires taken from its skeleton."""
    if not isinstance(skeleton, dict) or not isinstance(value, dict):
        return value
    out = dict(value)
    for key, default in skeleton.items():
        out[key] = _deep_fill(default, value[key]) if key in value else default
    return out
