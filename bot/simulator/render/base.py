"""What every renderer shares: the simulator's URLs, schema skeletons and node ids."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.simulator.world import World


def iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RenderBase:
    def __init__(self, sim: World) -> None:
        self.sim = sim

    @property
    def api(self) -> str:
        return self.sim.url

    @property
    def web(self) -> str:
        return self.sim.url + "/_web"

    def _schema(self, name: str) -> dict[str, Any]:
        return self.sim.spec.skeleton(f"/components/schemas/{name}")

    @staticmethod
    def _node(kind: str, ident: int | str) -> str:
        return base64.b64encode(f"{kind}:{ident}".encode()).decode()
