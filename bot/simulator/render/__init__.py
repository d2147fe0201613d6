"""The simulator's objects as GitHub's JSON, one module per resource family.

Each object starts from the skeleton of its OpenAPI schema (every required
field present) and gets its meaningful fields overlaid. URLs point at the
simulator's own documented endpoints, so PyGithub can follow them.
"""

from __future__ import annotations

from bot.simulator.render.actions import ActionsJSON
from bot.simulator.render.apps import AppsJSON
from bot.simulator.render.base import iso
from bot.simulator.render.checks import ChecksJSON
from bot.simulator.render.deployments import DeploymentsJSON
from bot.simulator.render.git import GitJSON
from bot.simulator.render.issues import IssuesJSON
from bot.simulator.render.people import PeopleJSON
from bot.simulator.render.pulls import PullsJSON
from bot.simulator.render.repos import ReposJSON


class Renderer(
    ActionsJSON,
    AppsJSON,
    ChecksJSON,
    DeploymentsJSON,
    GitJSON,
    IssuesJSON,
    PeopleJSON,
    PullsJSON,
    ReposJSON,
):
    """`sim.render`: every object of the simulator as the JSON GitHub sends for it."""


__all__ = ["Renderer", "iso"]
