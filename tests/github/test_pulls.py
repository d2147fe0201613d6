"""Facts of a pull request's payload, read from GitHub's own example payloads."""

from __future__ import annotations

import copy

from bot.github.pulls import from_fork, head_repository
from tests.webhooks.test_real_payloads import all_examples


def a_pull_request() -> tuple[dict, str]:
    """A real `pull_request` example's PR, and its repository's `owner/name`."""
    example = all_examples()["pull_request"][0]
    return copy.deepcopy(example["pull_request"]), example["repository"]["full_name"]


def test_a_pr_from_a_branch_of_the_repository_is_not_from_a_fork() -> None:
    pull, full_name = a_pull_request()
    assert head_repository(pull) == full_name
    assert not from_fork(pull, full_name)
    assert not from_fork(pull, full_name.upper())  # GitHub's names ignore case


def test_a_pr_whose_head_lives_elsewhere_or_was_deleted_is_from_a_fork() -> None:
    pull, full_name = a_pull_request()
    pull["head"]["repo"]["full_name"] = "mallory/" + full_name.split("/")[1]
    assert from_fork(pull, full_name)
    pull["head"]["repo"] = None  # GitHub's payload once the fork is deleted
    assert head_repository(pull) == "" and from_fork(pull, full_name)
