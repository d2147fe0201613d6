"""Policy packs, overrides, validation errors and the exported JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.policy_cmd import schema_document
from bot.config.load import parse_config, policy_for, policy_with_notes
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


def test_a_stage_list_replaces_the_packs_and_drops_what_is_gone():
    config = parse_config(
        "schema: mlbot/v1\noverrides:\n  stages: [dev, staging, prod]\n"
        "  promotion:\n    prod: {approvals: 2, from: [staging]}\nmodels: {m: {}}\n"
    )
    policy, notes = policy_with_notes(config, "m")
    assert policy.stages == ["dev", "staging", "prod"]
    assert set(policy.promotion) == {"staging", "prod"}  # production's block is gone
    assert policy.for_stage("prod").approvals == 2
    assert policy.baseline_stage == "prod"
    assert any(n.startswith("promotion.production dropped") for n in notes)
    assert any(n.startswith("promotion.dev: no rules of its own") for n in notes)


def test_a_stage_block_the_override_writes_for_a_missing_stage_is_an_error():
    config = parse_config(
        "schema: mlbot/v1\noverrides:\n  stages: [dev, prod]\n"
        "  promotion:\n    production: {approvals: 2}\n"
    )
    with pytest.raises(InputError, match=r"promotion\.production: not one of the stages"):
        policy_for(config, None)
