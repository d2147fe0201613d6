"""GitHub Apps, their installations and installation tokens, and the ping delivery."""

from __future__ import annotations

import secrets
from typing import Any

from bot.simulator.delivery import Delivery
from bot.simulator.state import App, Installation, Token
from bot.simulator.webhooks import WebhookEmitter


class AppsControl(WebhookEmitter):
    def create_app(
        self, slug: str = "mlbot", *, app_id: int | None = None, owner: str = "mlbot-org"
    ) -> App:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        app = App(app_id or self.next_id(), slug, slug, owner, private, public, self.now_iso())
        self.apps[slug] = app
        self.user(f"{slug}[bot]", "Bot")
        self.user(owner, "Organization")
        return app

    def app_json(self, slug: str) -> dict[str, Any]:
        app = self.apps.get(slug)
        if app is None:
            app = self.create_app(slug)
        return self.render.app(app)

    def install(
        self,
        app: App,
        account: str,
        *,
        repos: list[str] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Installation:
        inst = Installation(
            self.next_id(),
            account,
            repos,
            permissions
            or {
                "contents": "write",
                "issues": "write",
                "pull_requests": "write",
                "checks": "write",
                "deployments": "write",
                "statuses": "read",
                "actions": "read",
                "members": "read",
                "metadata": "read",
            },
            ["issue_comment", "issues", "pull_request", "pull_request_review", "workflow_run"],
            created_at=self.now_iso(),
        )
        self.installations[inst.id] = inst
        self._installation_app[inst.id] = app.slug
        covered = [r for r in self._repos.values() if self.installation_for(r) is inst]
        self._emit(
            "installation",
            "created",
            None,
            account,
            installation=self.render.installation(inst.id),
            repositories=[
                {
                    "id": r.id,
                    "node_id": self.render._node("Repository", r.id),
                    "name": r.name,
                    "full_name": r.full_name,
                    "private": r.private,
                }
                for r in covered
            ],
            requester=None,
        )
        return inst

    def ping(self, app: App | None = None) -> Delivery:
        """GitHub's first delivery to a new hook (or App)."""
        hook = {
            "type": "App" if app else "Repository",
            "id": self.webhooks.hook_id,
            "name": "web",
            "active": True,
            "events": ["*"],
            "config": {"content_type": "json", "insecure_ssl": "0", "url": self.webhooks.url or ""},
            "updated_at": self.now_iso(),
            "created_at": self.now_iso(),
        }
        if app:
            hook["app_id"] = app.id
        payload = {
            "zen": "Keep it logically awesome.",
            "hook_id": self.webhooks.hook_id,
            "hook": hook,
        }
        pointer = self.spec.webhook_pointer("ping", None)
        self._check_and_send(pointer, "ping", None, payload)
        return self.webhooks.deliveries[-1]

    def issue_installation_token(
        self,
        inst: Installation,
        *,
        repos: list[str] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Token:
        """An installation token, narrowed to `repos` and `permissions` if given."""
        slug = self._installation_app[inst.id]
        value = f"ghs_{secrets.token_hex(18)}"
        token = Token(
            value, f"{slug}[bot]", inst.id, self.now() + self.token_ttl, repos, permissions
        )
        self.tokens[value] = token
        return token
