"""Apps, installations and webhook deliveries."""

from __future__ import annotations

from typing import Any

from bot.simulator.delivery import Delivery
from bot.simulator.render.base import RenderBase, iso
from bot.simulator.state import (
    App,
)


class AppsJSON(RenderBase):
    def app(self, app: App) -> dict[str, Any]:
        out = self._schema("integration")
        out.update(
            id=app.id,
            slug=app.slug,
            node_id=self._node("App", app.id),
            client_id=f"Iv1.{app.id}",
            owner=self.user(app.owner),
            name=app.name,
            description=None,
            external_url=f"{self.web}/apps/{app.slug}",
            html_url=f"{self.web}/apps/{app.slug}",
            created_at=app.created_at,
            updated_at=app.created_at,
            permissions={"issues": "write", "pull_requests": "write", "contents": "write"},
            events=["issue_comment", "pull_request"],
        )
        return out

    def installation(self, inst_id: int) -> dict[str, Any]:
        sim = self.sim
        inst = sim.installations[inst_id]
        app = sim.apps[sim._installation_app[inst_id]]
        account = sim.user(inst.account)
        out = self._schema("installation")
        out.update(
            id=inst.id,
            account=self.user(inst.account),
            repository_selection="all" if inst.repos is None else "selected",
            access_tokens_url=f"{self.api}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{self.api}/installation/repositories",
            html_url=f"{self.web}/settings/installations/{inst.id}",
            app_id=app.id,
            app_slug=app.slug,
            target_id=account.id,
            target_type=account.type,
            permissions=inst.permissions,
            events=inst.events,
            created_at=inst.created_at,
            updated_at=inst.created_at,
            single_file_name=None,
            suspended_by=None,
            suspended_at=None,
        )
        return out

    def hook_delivery(self, d: Delivery, *, full: bool) -> dict[str, Any]:
        """An attempt as `hook-delivery-item` (a list) or `hook-delivery` (with the exchange)."""
        out: dict[str, Any] = {
            "id": d.number,
            "guid": d.id,
            "delivered_at": iso(d.delivered_at or 0),
            "redelivery": d.redelivery,
            "duration": round(d.duration, 3),
            "status": d.status_text,
            "status_code": d.status_code,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "throttled_at": None,
        }
        if full:
            out["url"] = d.url or ""
            out["request"] = {"headers": d.request_headers, "payload": d.payload}
            out["response"] = {
                "headers": d.response_headers or None,
                "payload": d.response_body,
            }
        return out
