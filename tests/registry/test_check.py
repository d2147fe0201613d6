"""`mlbot registry check` names every problem with its file, and exits 1."""

from __future__ import annotations


def story(repo):
    repo.register()
    repo.register()
    repo.ok("registry", "promote", "churn", "v0.1.0", "--to", "staging")


def commit_edit(repo, path, text):
    (repo.root / path).write_text(text)
    repo.git("add", path)
    repo.git("commit", "-q", "-m", f"hand edit {path}")


def test_a_healthy_registry_passes(repo):
    story(repo)
    res = repo.mlbot("registry", "check")
    assert (res.code, res.out.strip()) == (0, "registry OK (in the working tree)")


def test_a_version_record_edited_after_registration_is_caught(repo):
    story(repo)
    path = "registry/churn/versions/v0.1.0.yaml"
    text = (repo.root / path).read_text().replace("accuracy: 0.9", "accuracy: 0.99")
    commit_edit(repo, path, text)
    res = repo.mlbot("registry", "check", "--json")
    assert res.code == 1
    assert {"where": path, "what": res.json()["problems"][0]["what"]} in res.json()["problems"]
    assert "edited after registration" in res.out


def test_invalid_yaml_and_schema_violations_name_the_file(repo):
    story(repo)
    commit_edit(repo, "registry/churn/versions/v0.2.0.yaml", "schema: mlbot/v1\nmodel: [\n")
    commit_edit(repo, "registry/churn/stages.yaml", "schema: mlbot/v1\nmodel: churn\nstages: 3\n")
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert "registry/churn/versions/v0.2.0.yaml: is not valid YAML" in res.out
    assert "registry/churn/stages.yaml: does not match the mlbot/v1 schema: stages" in res.out


def test_stage_pointing_at_unknown_version_and_tags_disagreeing(repo):
    story(repo)
    path = "registry/churn/stages.yaml"
    commit_edit(repo, path, (repo.root / path).read_text().replace("v0.1.0", "v9.9.9"))
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert f"{path}: staging names v9.9.9, which has no record." in res.out
    assert f"{path}: says staging runs v9.9.9, but the tags say v0.1.0." in res.out


def test_missing_tag_lightweight_tag_and_orphan_tag(repo):
    story(repo)
    repo.git("tag", "-d", "churn@v0.2.0")
    repo.git("tag", "fraud@v0.1.0")  # lightweight, and no record
    res = repo.mlbot("registry", "check")
    assert res.code == 1
    assert "registry/churn/versions/v0.2.0.yaml: has no tag churn@v0.2.0." in res.out
    assert "tag fraud@v0.1.0: is a lightweight tag" in res.out
    assert "tag fraud@v0.1.0: has no version record at the head." in res.out


def test_a_corrupted_registry_file_blocks_writes_with_a_clear_error(repo):
    story(repo)
    commit_edit(repo, "registry/churn/stages.yaml", ": : not yaml : [")
    res = repo.mlbot("registry", "promote", "churn", "v0.2.0", "--to", "staging")
    assert res.code == 2
    assert "registry/churn/stages.yaml is not valid YAML" in res.err
