"""Users, organizations and teams."""

from __future__ import annotations

from typing import Any

from bot.simulator.render.base import RenderBase
from bot.simulator.state import (
    Team,
)


class PeopleJSON(RenderBase):
    def user(self, login: str) -> dict[str, Any]:
        u = self.sim.user(login)
        out = self._schema("simple-user")
        api_user = f"{self.api}/users/{u.login}"
        out.update(
            login=u.login,
            id=u.id,
            node_id=self._node("User", u.id),
            type=u.type,
            site_admin=False,
            url=api_user,
            html_url=f"{self.web}/{u.login}",
            avatar_url=f"{self.web}/avatars/{u.id}",
            gravatar_id="",
            followers_url=f"{api_user}/followers",
            following_url=f"{api_user}/following{{/other_user}}",
            gists_url=f"{api_user}/gists{{/gist_id}}",
            starred_url=f"{api_user}/starred{{/owner}}{{/repo}}",
            subscriptions_url=f"{api_user}/subscriptions",
            organizations_url=f"{api_user}/orgs",
            repos_url=f"{api_user}/repos",
            events_url=f"{api_user}/events{{/privacy}}",
            received_events_url=f"{api_user}/received_events",
        )
        return out

    def org(self, login: str) -> dict[str, Any]:
        org = self.sim.user(login, "Organization")
        out = self._schema("team-organization")
        base = f"{self.api}/orgs/{org.login}"
        out.update(
            login=org.login,
            id=org.id,
            node_id=self._node("Organization", org.id),
            url=base,
            repos_url=f"{base}/repos",
            events_url=f"{base}/events",
            hooks_url=f"{base}/hooks",
            issues_url=f"{base}/issues",
            members_url=f"{base}/members{{/member}}",
            public_members_url=f"{base}/public_members{{/member}}",
            avatar_url=f"{self.web}/avatars/{org.id}",
            description=None,
            html_url=f"{self.web}/{org.login}",
            type="Organization",
            created_at=org.created_at,
            updated_at=org.created_at,
        )
        return out

    def team(self, team: Team, schema: str = "team") -> dict[str, Any]:
        url = f"{self.api}/orgs/{team.org}/teams/{team.slug}"
        out = self._schema(schema)
        out.update(
            id=team.id,
            node_id=self._node("Team", team.id),
            url=url,
            html_url=f"{self.web}/orgs/{team.org}/teams/{team.slug}",
            name=team.name,
            slug=team.slug,
            description=None,
            privacy="closed",
            notification_setting="notifications_enabled",
            permission="pull",
            members_url=f"{url}/members{{/member}}",
            repositories_url=f"{url}/repos",
            parent=None,
        )
        if schema == "team-full":
            out.update(
                members_count=len(team.members),
                repos_count=0,
                created_at=self.sim.user(team.org).created_at,
                updated_at=self.sim.user(team.org).created_at,
                organization=self.sim.org_json(team.org),
            )
        return out
