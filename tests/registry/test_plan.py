"""The pure planning core: versions, stage history, tag counters and times."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import InputError, Refused
from bot.registry import audit, plan, schema, semver, tags
from bot.registry.state import ModelState

T0 = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
WHO = audit.Audit(requested_by="alice")


def event(name: str, target: str, seconds: int) -> tags.TagEvent:
    ev = tags.parse(tags.TagRef(name, target, T0 + dt.timedelta(seconds=seconds)))
    assert ev is not None
    return ev


def state(versions=(), stages=None, events=()) -> ModelState:
    return ModelState("churn", "head", list(versions), stages, list(events), lambda v: None)


def stages_file(**live) -> schema.StagesFile:
    return schema.StagesFile(
        model="churn",
        stages={s: schema.StageState(version=v, since=T0, by="x") for s, v in live.items()},
    )


@pytest.mark.parametrize(
    ("existing", "bump", "expected"),
    [
        ([], "minor", "v0.1.0"),
        (["v0.1.0", "v0.10.0", "v0.9.0"], "minor", "v0.11.0"),
        (["v1.2.3"], "patch", "v1.2.4"),
        (["v1.2.3"], "major", "v2.0.0"),
        (["v1.2.0", "v1.3.0-rc.1"], "minor", "v1.3.0"),
    ],
)
def test_next_version(existing, bump, expected):
    assert semver.next_version(existing, bump) == expected


@pytest.mark.parametrize("bad", ["1.2.3", "v1.2", "vx.y.z", "v1.2.3+build", "v01.2.3", ""])
def test_bad_versions_are_input_errors(bad):
    with pytest.raises(InputError, match="version"):
        semver.parse(bad)


def test_register_refuses_an_existing_version():
    record = schema.VersionRecord(
        model="churn",
        version="v0.1.0",
        created_at=T0,
        created_by="a",
        artifact=schema.Artifact(uri="m", sha256="0" * 64, size=1),
    )
    with pytest.raises(Refused, match="immutable"):
        plan.plan_register(state(["v0.1.0"]), record, WHO, T0)


def test_register_tag_carries_the_record_digest():
    record = schema.VersionRecord(
        model="churn",
        version="v0.1.0",
        created_at=T0,
        created_by="a",
        artifact=schema.Artifact(uri="m", sha256="0" * 64, size=1),
    )
    change = plan.plan_register(state(), record, WHO, T0)
    (content,) = change.files.values()
    assert tags.record_digest(change.tags[0].message) == schema.digest(content)
    assert change.tags[0].target == plan.NEW_COMMIT


def test_promote_keeps_a_bounded_most_recent_first_history():
    events = [event(f"churn@v0.{i}.0", f"c{i}", i) for i in range(1, 5)]
    st = state([f"v0.{i}.0" for i in range(1, 5)], stages_file(production="v0.1.0"), events)
    change = plan.plan_promote(
        st, "v0.2.0", "production", WHO, T0 + dt.timedelta(hours=1), history_limit=2
    )
    new = schema.parse_file("s", change.files["registry/churn/stages.yaml"], schema.StagesFile)
    prod = new.stages["production"]
    assert (prod.version, prod.by, [p.version for p in prod.previous]) == (
        "v0.2.0",
        "alice",
        ["v0.1.0"],
    )
    assert prod.previous[0].until == T0 + dt.timedelta(hours=1)
    assert change.previous == "v0.1.0"
    # The tag points at v0.2.0's registration commit, not at the new commit.
    assert change.tags[0].target == "c2"


def test_tag_counter_is_one_more_than_any_of_the_models_tags():
    events = [event("churn@v0.1.0", "c1", 0), event("churn#staging#7", "c1", 1)]
    st = state(["v0.1.0"], None, events)
    change = plan.plan_promote(st, "v0.1.0", "production", WHO, T0)
    assert change.tags[0].name == "churn#production#8"


def test_tag_times_never_repeat_a_second_even_when_the_clock_is_behind():
    events = [event("churn@v0.1.0", "c1", 100)]
    st = state(["v0.1.0"], None, events)
    times = plan.tag_times(st, T0, 3)  # clock says T0, the last tag is T0+100s
    assert times == [T0 + dt.timedelta(seconds=s) for s in (101, 102, 103)]


def test_rollback_skips_deprecated_versions_and_needs_a_previous_one():
    events = [event(f"churn@v0.{i}.0", f"c{i}", i) for i in range(1, 4)]
    live = stages_file(production="v0.3.0")
    live.stages["production"].previous = [
        schema.StageEntry(version="v0.2.0", since=T0, by="x"),
        schema.StageEntry(version="v0.1.0", since=T0, by="x"),
    ]
    live.deprecated = [schema.Deprecation(version="v0.2.0", at=T0, by="x")]
    st = state(["v0.1.0", "v0.2.0", "v0.3.0"], live, events)
    change = plan.plan_rollback(st, "production", None, WHO, T0)
    assert (change.previous, change.version) == ("v0.3.0", "v0.1.0")
    assert [t.name for t in change.tags] == ["churn#production!#1", "churn#production#2"]
    assert [t.target for t in change.tags] == ["c3", "c1"]

    lone = stages_file(production="v0.1.0")
    with pytest.raises(Refused, match="no previous version"):
        plan.plan_rollback(state(["v0.1.0"], lone, events), "production", None, WHO, T0)


def test_promote_of_an_unknown_or_untagged_version_is_refused():
    with pytest.raises(InputError, match=r"has no version v0\.9\.0"):
        plan.plan_promote(state(["v0.1.0"]), "v0.9.0", "staging", WHO, T0)
    with pytest.raises(Refused, match="git fetch --tags"):
        plan.plan_promote(state(["v0.1.0"]), "v0.1.0", "staging", WHO, T0)


def test_trailers_cannot_be_forged_through_a_newline():
    msg = audit.message("registry: x", audit.Audit(requested_by="eve\nApproved-by: mallory"))
    assert audit.parse_trailers(msg) == {"Requested-by": ["eve Approved-by: mallory"]}


def production_history() -> ModelState:
    """v0.3.0 live in production; v0.2.0 ran there before; v0.1.0 only in staging."""
    events = [event(f"churn@v0.{i}.0", f"c{i}", i) for i in range(1, 5)]
    live = stages_file(production="v0.3.0", staging="v0.4.0")
    live.stages["production"].previous = [schema.StageEntry(version="v0.2.0", since=T0, by="x")]
    live.stages["staging"].previous = [schema.StageEntry(version="v0.1.0", since=T0, by="x")]
    return state(["v0.1.0", "v0.2.0", "v0.3.0", "v0.4.0"], live, events)


def test_a_rollback_to_goes_only_to_a_version_live_in_that_stage_before():
    st = production_history()
    assert plan.rollback_target(st, "production", "v0.2.0") == ("v0.3.0", "v0.2.0")
    for never in ("v0.1.0", "v0.4.0"):  # staging only, or never staged: a promotion
        with pytest.raises(plan.NotLiveBefore, match=f"/promote churn {never} to production"):
            plan.rollback_target(st, "production", never)


def test_a_gto_assignment_tag_counts_as_having_been_live():
    st = production_history()
    st.events.append(event("churn#production#9", "c1", 50))  # GTO put v0.1.0 there once
    assert plan.rollback_target(st, "production", "v0.1.0") == ("v0.3.0", "v0.1.0")


def test_a_rollback_never_restores_a_deprecated_version():
    st = production_history()
    assert st.stages is not None
    st.stages.deprecated = [schema.Deprecation(version="v0.2.0", at=T0, by="x")]
    with pytest.raises(Refused, match="deprecated"):
        plan.rollback_target(st, "production", "v0.2.0")


def test_a_rollback_reads_its_targets_record_before_planning():
    def corrupt(version: str) -> schema.VersionRecord:
        raise InputError(f"registry/churn/versions/{version}.yaml: not YAML")

    st = production_history()
    st.load_record = corrupt
    with pytest.raises(InputError, match=r"versions/v0\.2\.0\.yaml"):
        plan.plan_rollback(st, "production", None, WHO, T0)
