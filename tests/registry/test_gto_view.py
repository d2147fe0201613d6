"""Every tag form GTO writes, and GTO's rules for what is live, on plain tag data."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.registry import gto_view, tags

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def ref(name: str, target: str, second: int, annotated: bool = True) -> tags.TagRef:
    return tags.TagRef(
        name, target, T0 + dt.timedelta(seconds=second), "msg", annotated, "Gina", "g@x"
    )


@pytest.mark.parametrize(
    ("name", "kind", "version", "stage", "counter"),
    [
        ("churn@v1.2.0", "registration", "v1.2.0", None, None),
        ("churn@v1.2.0#3", "registration", "v1.2.0", None, 3),
        ("churn@v1.2.0!", "deregistration", "v1.2.0", None, None),
        ("churn@v1.2.0!#4", "deregistration", "v1.2.0", None, 4),
        ("churn@deprecated", "deprecation", None, None, None),
        ("churn@deprecated#9", "deprecation", None, None, 9),
        ("churn#prod", "assignment", None, "prod", None),
        ("churn#prod#7", "assignment", None, "prod", 7),
        ("churn#prod!", "unassignment", None, "prod", None),
        ("churn#prod!#8", "unassignment", None, "prod", 8),
    ],
)
def test_every_gto_tag_form_parses(name, kind, version, stage, counter):
    event = tags.parse(ref(name, "c1", 0))
    assert event is not None
    assert (event.model, event.kind, event.version, event.stage, event.counter) == (
        "churn",
        kind,
        version,
        stage,
        counter,
    )


@pytest.mark.parametrize(
    "name", ["churn@created", "churn@v1.2", "Churn@v1.0.0", "churn#Prod", "release-1", "a@b#c#d"]
)
def test_tags_that_are_not_registry_events(name):
    assert tags.parse(ref(name, "c1", 0)) is None


def view(*refs: tags.TagRef) -> gto_view.TagView:
    return gto_view.read("churn", [e for r in refs if (e := tags.parse(r))])


def test_the_newest_live_assignment_wins_and_a_deregistered_version_leaves_its_stage():
    v = view(
        ref("churn@v1.0.0", "c1", 0),
        ref("churn@v2.0.0", "c2", 1),
        ref("churn#prod", "c1", 2),
        ref("churn#prod#1", "c2", 3),
        ref("churn@v2.0.0!", "c2", 4),
    )
    assert v.live == {"prod": "v1.0.0"}  # as gto show says after the deregistration
    assert v.active == ["v1.0.0"] and v.latest() == "v1.0.0"
    assert v.versions == ["v1.0.0", "v2.0.0"]


def test_an_unassignment_empties_the_pair_and_reassignment_restores_it():
    v = view(
        ref("churn@v1.0.0", "c1", 0),
        ref("churn#dev#1", "c1", 1),
        ref("churn#dev!#2", "c1", 2),
    )
    assert v.live == {}
    v = view(
        ref("churn@v1.0.0", "c1", 0),
        ref("churn#dev#1", "c1", 1),
        ref("churn#dev!#2", "c1", 2),
        ref("churn#dev#3", "c1", 3),
    )
    assert v.live == {"dev": "v1.0.0"}


def test_lightweight_tags_and_tags_on_unregistered_commits_are_not_versions():
    v = view(
        ref("churn@v1.0.0", "c1", 0, annotated=False),
        ref("churn@v2.0.0", "c2", 1),
        ref("churn#prod#1", "c9", 2),
    )
    assert v.versions == ["v2.0.0"]
    assert v.live == {} and [e.ref.name for e in v.unresolved] == ["churn#prod#1"]


def test_artifact_deprecation_lasts_until_a_later_event():
    assert view(ref("churn@v1.0.0", "c1", 0), ref("churn@deprecated", "c1", 1)).deprecated
    later = view(
        ref("churn@v1.0.0", "c1", 0),
        ref("churn@deprecated", "c1", 1),
        ref("churn@v1.1.0", "c2", 2),
    )
    assert later.deprecated is None


def test_stages_file_from_tags_keeps_every_earlier_assignment_newest_first():
    v = view(
        ref("churn@v1.0.0", "c1", 0),
        ref("churn@v2.0.0", "c2", 1),
        ref("churn@v3.0.0", "c3", 2),
        ref("churn#prod", "c1", 3),
        ref("churn#prod#1", "c2", 4),
        ref("churn#prod#2", "c3", 5),
    )
    stages = gto_view.stages_file(v)
    prod = stages.stages["prod"]
    assert prod.version == "v3.0.0" and prod.by == "Gina <g@x>"
    assert [(p.version, p.until) for p in prod.previous] == [
        ("v2.0.0", T0 + dt.timedelta(seconds=5)),
        ("v1.0.0", T0 + dt.timedelta(seconds=4)),
    ]


@pytest.mark.parametrize(
    ("name", "unread"),
    [
        ("Churn@v1.0.0", True),
        ("churn_model#prod#3", True),
        ("nlp=bert@v1.0.0", True),
        ("churn#Prod", True),
        ("churn@created", True),
        ("churn@v1.0.0", False),  # read
        ("churn#prod!#2", False),  # read
        ("release-1.0", False),  # not GTO's
        ("v1.0.0", False),
    ],
)
def test_gto_tags_mlbot_does_not_read_are_recognised(name, unread):
    assert tags.unread_gto_tag(name) is unread
