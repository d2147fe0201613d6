"""Webhook emission: payloads built on the schema's skeleton, validated, queued for delivery."""

from __future__ import annotations

from typing import Any

from bot.simulator.delivery import Delivery
from bot.simulator.request import ValidationFailure
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


class WebhookEmitter(World):
    def set_webhook(self, url: str | None, secret: str | None) -> None:
        self.webhooks.url = url
        self.webhooks.secret = secret

    def wait_for_webhooks(self, timeout: float = 30.0) -> list[Delivery]:
        self.webhooks.wait(timeout)
        return list(self.webhooks.deliveries)

    def _announce_push(
        self, repo: Repo, ref: str, before: str | None, after: str, user: str
    ) -> None:
        u = self.user(user)
        commit = self.render.git_commit(repo, after)
        head = {
            "id": after,
            "tree_id": commit["tree"]["sha"],
            "distinct": True,
            "message": commit["message"],
            "timestamp": commit["committer"]["date"],
            "url": commit["html_url"],
            "author": {"name": u.login, "email": u.email, "username": u.login},
            "committer": {"name": u.login, "email": u.email, "username": u.login},
            "added": [],
            "removed": [],
            "modified": [],
        }
        self._emit(
            "push",
            None,
            repo,
            user,
            ref=ref,
            before=before or "0" * 40,
            after=after,
            created=before is None,
            deleted=False,
            forced=False,
            base_ref=None,
            compare=f"{self.url}/_web/{repo.full_name}/compare/{(before or '')[:12]}..{after[:12]}",
            commits=[head],
            head_commit=head,
            pusher={"name": u.login, "email": u.email},
        )

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
