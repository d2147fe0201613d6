"""Policy packs, overrides, validation errors and the exported JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.policy_cmd import schema_document
from bot.config.load import parse_config, policy_for
from bot.errors import InputError
from bot.policy.packs import build, load_pack, load_pack_data, merge

ROOT = Path(__file__).resolve().parents[2]


def test_schema_json_is_not_stale():
    on_disk = json.loads((ROOT / "policies" / "schema.json").read_text())
    assert on_disk == schema_document(), (
        "policies/schema.json is stale: regenerate it with "
        "`mlbot policy schema > policies/schema.json`"
    )


def test_packs_validate_against_the_exported_schema():
    import jsonschema

    schema = json.loads((ROOT / "policies" / "schema.json").read_text())
    for name in ("default", "strict"):
        jsonschema.validate(load_pack_data(name), schema)


def test_default_and_strict_packs():
    default, strict = load_pack("default"), load_pack("strict")
    assert default.for_stage("production").approvals == 1
    assert default.for_stage("production").from_stages == ["staging"]
    assert not default.for_stage("production").require_signature
    for stage in strict.stages:
        rule = strict.for_stage(stage)
        assert rule.require_signature and rule.require_scan and rule.approvals >= 1
        assert not rule.allow_self_approval and not rule.accept_stale_approvals


def test_repository_and_model_overrides_merge_deeply():
    config = parse_config(
        "schema: mlbot/v1\npolicy: default\n"
        "overrides: {promotion: {production: {approvals: 2}}}\n"
        "models:\n  churn:\n    policy: {metrics: {accuracy: {min: 0.8}}}\n  fraud: {}\n"
    )
    churn, fraud = policy_for(config, "churn"), policy_for(config, "fraud")
    assert churn.for_stage("production").approvals == 2
    assert churn.for_stage("production").from_stages == ["staging"]  # kept from the pack
    assert churn.metrics["accuracy"].min == 0.8 and fraud.metrics == {}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"promotion": {"prod": {"approvals": 1}}}, "promotion.prod: not one of the stages"),
        ({"promotion": {"staging": {"from": ["production"]}}}, "cycle"),
        ({"promotion": {"staging": {"approvals": -1}}}, "promotion.staging.approvals"),
        ({"metrics": {"acc": {"direction": "up"}}}, "metrics.acc.direction"),
        ({"typo_section": {}}, "typo_section"),
    ],
)
def test_invalid_policies_say_where(override, message):
    with pytest.raises(InputError, match=message):
        build(merge(load_pack_data("default"), override), "test")


def test_config_errors_name_the_file_and_place():
    with pytest.raises(
        InputError,
        match=r"\.github/mlbot\.yml is invalid at models: .*'Bad' is not a valid model name",
    ):
        parse_config("schema: mlbot/v1\nmodels:\n  Bad: {}\n")
    with pytest.raises(InputError, match="not valid YAML"):
        parse_config("models: [")
