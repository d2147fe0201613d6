"""Users, organizations, teams, tokens, collaborators and the permissions they hold."""

from __future__ import annotations

import secrets
from typing import Any

from bot.simulator.bare_repo import Person
from bot.simulator.state import PERMISSION_RANK, Repo, Team, Token, User
from bot.simulator.webhooks import WebhookEmitter


class PeopleControl(WebhookEmitter):
    def create_org(self, login: str) -> User:
        return self.user(login, "Organization")

    def org_json(self, login: str) -> dict[str, Any]:
        return self.render.org(login)

    def add_token(self, login: str, value: str | None = None) -> str:
        """A personal access token acting as `login`."""
        token = value or f"ghp_{secrets.token_hex(18)}"
        self.user(login)
        self.tokens[token] = Token(token, login)
        return token

    def person(self, login: str) -> Person:
        user = self.user(login)
        return Person(user.login, user.email, int(self.now()))

    def add_collaborator(self, full_name: str, login: str, permission: str = "write") -> None:
        if permission not in PERMISSION_RANK:
            raise ValueError(f"unknown permission {permission!r}")
        self.user(login)
        self.repo(full_name).collaborators[login] = permission

    def permission(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "admin"
        for inst_id, slug in self._installation_app.items():
            inst = self.installations[inst_id]
            covers = inst.account.lower() == repo.owner.lower() and (
                inst.repos is None or repo.full_name in inst.repos
            )
            if covers and login.lower() == f"{slug}[bot]".lower():
                # An App acts with what its installation grants on repository contents.
                return "write" if inst.permissions.get("contents") == "write" else "read"
        for name, perm in repo.collaborators.items():
            if name.lower() == login.lower():
                return perm
        return "none" if repo.private else "read"

    def association(self, repo: Repo, login: str) -> str:
        if login.lower() == repo.owner.lower():
            return "OWNER"
        if any(login.lower() == m.lower() for t in self.teams.values() for m in t.members):
            return "MEMBER"
        if any(name.lower() == login.lower() for name in repo.collaborators):
            return "COLLABORATOR"
        return "NONE"

    def create_team(self, org: str, slug: str, members: dict[str, str] | list[str]) -> Team:
        self.create_org(org)
        roles = members if isinstance(members, dict) else dict.fromkeys(members, "member")
        for login in roles:
            self.user(login)
        team = Team(self.next_id(), org, slug, slug, dict(roles))
        self.teams[(org.lower(), slug.lower())] = team
        return team
