"""One behavioural suite, two backends: a local git repository and GitHub's Git Data API.

The GitHub backend talks to the local simulator with OpenAPI validation on
(the `make_github_sim` fixture fails the test on any request or response that
breaks GitHub's description). The same operations, with the same clock and
identity, must leave the same registry: versions, stages, tag names, targets,
counters and dates, commit messages with their trailers and `Mlbot-Tag`
lines, and the same `show`, `history` and `check` output. Both repositories
are then inspected with the git CLI, and with PyPI `gto`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config.load import load_config, policy_for
from bot.errors import InputError, Refused
from bot.github.client import GitHubClientFactory
from bot.registry import audit, check, views
from bot.registry.git_store import GitStore
from bot.registry.github_store import GitHubStore
from bot.registry.schema import Artifact
from bot.registry.service import Registry
from bot.registry.store import Identity, RegistryStore
from bot.simulator.pytest_plugin import make_github_sim  # noqa: F401
from tests.gitrepo import CONFIG, make_repo

BOT = Identity("mlbot[bot]", "mlbot[bot]@users.noreply.github.com")
REPO = "acme/models"
START = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    """A minute per reading: both backends see the very same times."""

    def __init__(self) -> None:
        self.ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return START + dt.timedelta(minutes=next(self.ticks))


@dataclass
class Backend:
    kind: str
    store: RegistryStore
    git_dir: Path  # a repository the git CLI can read (the simulator's is bare)
    config_root: Path
    delete_tag: Callable[[str], None]
    new_store: Callable[[], RegistryStore]

    def registry(self, store: RegistryStore | None = None, **kwargs) -> Registry:
        root = self.config_root
        kwargs.setdefault("clock", Clock())
        return Registry(
            store or self.store,
            lambda m: policy_for(load_config(root), m, root),
            author=BOT,
            **kwargs,
        )

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(self.git_dir), *args], capture_output=True, text=True, check=True
        ).stdout


def local_backend(tmp_path: Path, capsys) -> Backend:
    repo = make_repo(tmp_path / "local", capsys)
    return Backend(
        "git",
        GitStore(repo.root),
        repo.root,
        repo.root,
        delete_tag=lambda name: repo.git("tag", "-d", name),
        new_store=lambda: GitStore(repo.root),
    )


def github_backend(tmp_path: Path, make_sim, **factory_kwargs) -> tuple[Backend, object, object]:
    sim = make_sim(faults=factory_kwargs.pop("faults", None))
    config = CONFIG.format(policy="default", overrides="{}")
    sim.create_repo(REPO, {"README.md": "a model repository\n", ".github/mlbot.yml": config})
    sim.add_collaborator(REPO, "mlbot-app", "write")
    factory_kwargs.setdefault("backoff_factor", 0.01)
    factory = GitHubClientFactory(sim.url, token=sim.add_token("mlbot-app"), **factory_kwargs)
    gh = factory.for_installation(None)
    config_root = tmp_path / "config"
    (config_root / ".github").mkdir(parents=True)
    (config_root / ".github" / "mlbot.yml").write_text(config)
    git_store = sim.repo(REPO).store
    backend = Backend(
        "github",
        GitHubStore(gh, REPO, "main"),
        git_store.path,
        config_root,
        delete_tag=lambda name: git_store.delete_ref(f"tags/{name}"),
        new_store=lambda: GitHubStore(factory.for_installation(None), REPO, "main"),
    )
    return backend, sim, gh


@pytest.fixture(params=["git", "github"])
def backend(request, tmp_path, capsys) -> Backend:
    if request.param == "git":
        return local_backend(tmp_path, capsys)
    make_sim = request.getfixturevalue("make_github_sim")
    return github_backend(tmp_path, make_sim)[0]


def artifact(n: int) -> Artifact:
    return Artifact(uri=f"s3://models/churn-{n}.bin", sha256=f"{n:064x}", size=100 + n)


def ask(who: str, **kw) -> audit.Audit:
    return audit.Audit(requested_by=who, **kw)


def story(b: Backend) -> None:
    """Registrations, promotions with approvals, a rollback and a deprecation on two models."""
    reg = b.registry()
    for n in range(1, 4):
        reg.register("churn", artifact=artifact(n), audit_info=ask("alice"), metrics={"acc": 0.9})
    reg.register("fraud", artifact=artifact(9), audit_info=ask("bob"), metrics={"auc": 0.8})
    reg.promote("churn", "v0.1.0", "staging", audit_info=ask("alice"))
    reg.promote(
        "churn",
        "v0.1.0",
        "production",
        audit_info=ask("alice", approved_by=("bob", "carol"), refs=("#12",)),
    )
    reg.promote("churn", "v0.2.0", "staging", audit_info=ask("alice"))
    reg.promote("churn", "v0.2.0", "production", audit_info=ask("alice", approved_by=("bob",)))
    reg.rollback("churn", "production", audit_info=ask("carol", reason="p99 latency", refs=("#7",)))
    reg.deprecate("churn", "v0.3.0", audit_info=ask("alice", reason="leaky feature"))
    reg.promote("fraud", "v0.1.0", "staging", audit_info=ask("bob"))


EXPECTED_SUBJECTS = [
    "registry: promote fraud v0.1.0 to staging",
    "registry: deprecate churn v0.3.0",
    "registry: roll back churn production to v0.1.0",
    "registry: promote churn v0.2.0 to production",
    "registry: promote churn v0.2.0 to staging",
    "registry: promote churn v0.1.0 to production",
    "registry: promote churn v0.1.0 to staging",
    "registry: register fraud v0.1.0",
    "registry: register churn v0.3.0",
    "registry: register churn v0.2.0",
    "registry: register churn v0.1.0",
]


def tag_table(b: Backend) -> dict[str, tuple[str, str, int]]:
    """name -> (object type, peeled commit, tagger date) as git itself reads the tags."""
    out = b.git(
        "for-each-ref",
        "--format=%(refname:strip=2) %(objecttype) %(*objectname) %(taggerdate:unix)",
        "refs/tags",
    )
    return {n: (k, c, int(t)) for n, k, c, t in (line.split() for line in out.splitlines())}


def commit_of(b: Backend, subject: str) -> str:
    return b.git("log", "main", "--format=%H", "-F", "--grep", subject).split()[0]


def test_the_story_leaves_the_same_registry(backend: Backend) -> None:
    story(backend)
    b = backend

    assert b.git("log", "main", "--format=%s").splitlines()[:11] == EXPECTED_SUBJECTS
    # Linear: every registry commit has exactly one parent.
    parents = b.git("log", "main", "--format=%P", "-11").splitlines()
    assert all(len(p.split()) == 1 for p in parents)

    assert views.show(b.store) == {
        "models": {
            "churn": {
                "versions": ["v0.1.0", "v0.2.0", "v0.3.0"],
                "latest": "v0.2.0",
                "stages": {"staging": "v0.2.0", "production": "v0.1.0"},
                "deprecated": ["v0.3.0"],
                "from_tags": [],
                "active": True,
            },
            "fraud": {
                "versions": ["v0.1.0"],
                "latest": "v0.1.0",
                "stages": {"staging": "v0.1.0"},
                "deprecated": [],
                "from_tags": [],
                "active": True,
            },
        }
    }

    table = tag_table(b)
    reg = {v: commit_of(b, f"registry: register churn {v}") for v in ("v0.1.0", "v0.2.0")}
    assert {n: (k, c) for n, (k, c, _) in table.items()} == {
        "churn@v0.1.0": ("tag", reg["v0.1.0"]),
        "churn@v0.2.0": ("tag", reg["v0.2.0"]),
        "churn@v0.3.0": ("tag", commit_of(b, "registry: register churn v0.3.0")),
        "churn@v0.3.0!": ("tag", commit_of(b, "registry: register churn v0.3.0")),
        "fraud@v0.1.0": ("tag", commit_of(b, "registry: register fraud v0.1.0")),
        # Stage tags point at the version's registration commit, as GTO resolves them.
        "churn#staging#1": ("tag", reg["v0.1.0"]),
        "churn#production#2": ("tag", reg["v0.1.0"]),
        "churn#staging#3": ("tag", reg["v0.2.0"]),
        "churn#production#4": ("tag", reg["v0.2.0"]),
        "churn#production!#5": ("tag", reg["v0.2.0"]),
        "churn#production#6": ("tag", reg["v0.1.0"]),
        "fraud#staging#1": ("tag", commit_of(b, "registry: register fraud v0.1.0")),
    }
    churn_dates = sorted(t for n, (_, _, t) in table.items() if n.startswith("churn"))
    assert all(b2 > a for a, b2 in itertools.pairwise(churn_dates))

    rollback = b.git("log", "main", "-1", "--format=%B", "-F", "--grep", "roll back")
    demoted, restored = table["churn#production!#5"], table["churn#production#6"]
    assert rollback == (
        "registry: roll back churn production to v0.1.0\n\n"
        "Demoted: v0.2.0\n"
        f"Mlbot-Tag: churn#production!#5 {reg['v0.2.0']} {demoted[2]}\n"
        f"Mlbot-Tag: churn#production#6 {reg['v0.1.0']} {restored[2]}\n"
        "Reason: p99 latency\n\n"
        "Requested-by: carol\nRefs: #7\n\n"
    )
    trailers = b.git(
        "log", "main", "-1", "--format=%(trailers:unfold)", "-F", "--grep", "v0.1.0 to production"
    )
    assert trailers.split("\n")[:4] == [
        "Requested-by: alice",
        "Approved-by: bob",
        "Approved-by: carol",
        "Refs: #12",
    ]
    author = b.git("log", "main", "-1", "--format=%an <%ae>|%cn <%ce>")
    assert author.strip() == f"{BOT}|{BOT}"

    history = views.history(b.store, "churn")
    assert [(e["event"], e["version"], e["stage"], e["tag"]) for e in history] == [
        ("registration", "v0.1.0", None, "churn@v0.1.0"),
        ("registration", "v0.2.0", None, "churn@v0.2.0"),
        ("registration", "v0.3.0", None, "churn@v0.3.0"),
        ("assignment", "v0.1.0", "staging", "churn#staging#1"),
        ("assignment", "v0.1.0", "production", "churn#production#2"),
        ("assignment", "v0.2.0", "staging", "churn#staging#3"),
        ("assignment", "v0.2.0", "production", "churn#production#4"),
        ("unassignment", "v0.2.0", "production", "churn#production!#5"),
        ("assignment", "v0.1.0", "production", "churn#production#6"),
        ("deregistration", "v0.3.0", None, "churn@v0.3.0!"),
    ]
    by_tag = {e["tag"]: e for e in history}
    assert by_tag["churn#production#2"]["approved_by"] == ["bob", "carol"]
    assert by_tag["churn#production#6"]["registry_commit"] == commit_of(b, "roll back")
    # As gto reads it: the assignment names the commit the version was registered at.
    assert by_tag["churn#production#6"]["commit"] == by_tag["churn@v0.1.0"]["commit"]
    assert by_tag["churn#production#6"]["refs"] == ["#7"]
    assert (
        by_tag["churn#production#6"]["timestamp"]
        == dt.datetime.fromtimestamp(restored[2], dt.timezone.utc).isoformat()
    )

    assert check.check(b.store) == []


def test_refusals_are_the_same(backend: Backend) -> None:
    reg = backend.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("alice"))
    with pytest.raises(InputError, match=re.escape("churn has no version v9.9.9 (latest: v0.1.0)")):
        reg.promote("churn", "v9.9.9", "staging", audit_info=ask("alice"))
    with pytest.raises(Refused, match=re.escape("churn v0.1.0 is already registered")):
        reg.register("churn", artifact=artifact(2), version="v0.1.0", audit_info=ask("alice"))
    with pytest.raises(Refused, match="churn has no version in production to roll back"):
        reg.rollback("churn", "production", audit_info=ask("alice"))
    reg.promote("churn", "v0.1.0", "staging", audit_info=ask("alice"))
    with pytest.raises(Refused, match=re.escape("churn v0.1.0 is already live in staging")):
        reg.promote("churn", "v0.1.0", "staging", audit_info=ask("alice"))
    with pytest.raises(Refused, match="live in staging"):
        reg.deprecate("churn", "v0.1.0", audit_info=ask("alice"))
    # Nothing was written by a refusal: two commits on top of the initial one.
    assert len(backend.git("log", "main", "--format=%H").split()) == 3


class RacingStore:
    """Any backend, with a real concurrent writer landing just before each of our writes."""

    def __init__(self, backend: Backend, races: int) -> None:
        self.inner = backend.new_store()
        self.backend = backend
        self.races = races

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def write(self, parent, change, author):
        if self.races:
            self.races -= 1
            other = self.backend.registry(self.backend.new_store())
            other.register("fraud", artifact=artifact(50 + self.races), audit_info=ask("racer"))
        return self.inner.write(parent, change, author)


def test_a_write_that_loses_the_race_rereads_and_retries(backend: Backend) -> None:
    reg = backend.registry(RacingStore(backend, races=2))
    out = reg.register("churn", artifact=artifact(1), audit_info=ask("alice"))
    assert out.attempts == 3
    assert backend.git("log", "main", "--format=%s", "-3").splitlines() == [
        "registry: register churn v0.1.0",
        "registry: register fraud v0.2.0",
        "registry: register fraud v0.1.0",
    ]
    assert all(
        len(p.split()) == 1 for p in backend.git("log", "main", "--format=%P").split("\n")[:3]
    )
    assert check.check(backend.store) == []


def test_check_names_a_missing_tag_the_same_way(backend: Backend) -> None:
    reg = backend.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("alice"))
    reg.register("churn", artifact=artifact(2), audit_info=ask("alice"))
    reg.promote("churn", "v0.2.0", "staging", audit_info=ask("alice"))
    backend.delete_tag("churn#staging#1")
    sha = commit_of(backend, "registry: promote churn v0.2.0 to staging")
    assert [str(p) for p in check.check(backend.store)] == [
        "registry/churn/stages.yaml: says staging runs v0.2.0, but the tags say nothing.",
        f"commit {sha[:12]}: declares tag churn#staging#1, which does not exist yet (the write "
        "was cut short; the next registry read of churn through the bot creates it).",
    ]


def gto_era(b: Backend, tmp_path: Path) -> dict[str, str]:
    """History GTO wrote before mlbot came: commits, then annotated tags as `gto` names them."""
    who = {"GIT_AUTHOR_NAME": "Gina", "GIT_AUTHOR_EMAIL": "gina@example.com"}
    who |= {"GIT_COMMITTER_NAME": "Gina", "GIT_COMMITTER_EMAIL": "gina@example.com"}

    def run(*args: str, when: int, stdin: str | None = None) -> str:
        date = {"GIT_AUTHOR_DATE": f"{when} +0000", "GIT_COMMITTER_DATE": f"{when} +0000"}
        env = {**os.environ, **who, **date, "GIT_INDEX_FILE": str(tmp_path / "gto-index")}
        return subprocess.run(
            ["git", "-C", str(b.git_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()

    commits = {}
    for n, name in enumerate(["c1", "c2"]):
        when = 1_700_000_000 + n
        run("read-tree", "main", when=when)
        files = {
            "models/churn.pkl": f"weights {n + 1}",
            "dvc.yaml": "artifacts:\n  churn:\n    path: models/churn.pkl\nmetrics: [m.json]\n",
            "m.json": f'{{"auc": 0.{7 + n}}}',
        }
        for path, text in files.items():
            blob = run("hash-object", "-w", "--stdin", when=when, stdin=text)
            run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", when=when)
        parent = run("rev-parse", "main", when=when)
        tree = run("write-tree", when=when)
        sha = run("commit-tree", tree, "-p", parent, "-m", f"train {name}", when=when)
        run("update-ref", "refs/heads/main", sha, parent, when=when)
        commits[name] = sha
    tagged = ["churn@v1.0.0", "churn@v1.1.0", "churn#prod", "churn#prod#1", "churn#staging#2"]
    targets = ["c1", "c2", "c1", "c2", "c2"]
    for n, (tag, target) in enumerate(zip(tagged, targets, strict=True)):
        run("tag", "-a", tag, "-m", f"gto {tag}", commits[target], when=1_700_000_100 + n)
    return commits


def test_a_registry_gto_wrote_reads_and_continues_the_same_way(backend: Backend, tmp_path) -> None:
    commits = gto_era(backend, tmp_path)
    store = backend.new_store()
    state = store.read_model("churn", store.head())
    assert state.versions == ["v1.0.0", "v1.1.0"] and state.from_tags == {"v1.0.0", "v1.1.0"}
    assert state.live == {"prod": "v1.1.0", "staging": "v1.1.0"}
    record = state.record("v1.0.0")
    assert record.origin.tag == "churn@v1.0.0" and record.origin.commit == commits["c1"]
    assert record.created_by == "Gina <gina@example.com>" and record.metrics == {"auc": 0.7}
    assert record.artifact.sha256 == hashlib.sha256(b"weights 1").hexdigest()

    reg = backend.registry(backend.new_store())
    out = reg.register("churn", artifact=artifact(3), audit_info=ask("alice"))
    assert out.change.version == "v1.2.0"
    out = reg.rollback("churn", "prod", audit_info=ask("carol", reason="incident"))
    assert (out.change.previous, out.change.version) == ("v1.1.0", "v1.0.0")
    shown = views.show(backend.new_store())["models"]["churn"]
    assert shown["stages"] == {"prod": "v1.0.0", "staging": "v1.1.0"}
    assert shown["from_tags"] == ["v1.0.0", "v1.1.0"]
    history = views.history(backend.new_store(), "churn")
    gto_events = [e for e in history if e["registry_commit"] is None]
    assert [(e["ref"], e["commit"], e["author"]) for e in gto_events[:2]] == [
        ("churn@v1.0.0", commits["c1"], "Gina"),
        ("churn@v1.1.0", commits["c2"], "Gina"),
    ]
    assert [p for p in check.check(backend.new_store()) if p.level == "error"] == []


def _gto(root: Path, *args: str):
    exe = Path(sys.executable).with_name("gto")
    if not exe.exists():
        pytest.skip("gto is not installed (dev extra)")
    out = subprocess.run(
        [str(exe), *args, "--repo", str(root)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_gto_reads_what_the_github_backend_wrote(request, tmp_path: Path) -> None:
    # The local backend's gto interop is tests/registry/test_gto_interop.py.
    backend = github_backend(tmp_path, request.getfixturevalue("make_github_sim"))[0]
    story(backend)
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", str(backend.git_dir), str(clone)], check=True, capture_output=True
    )
    shown = _gto(clone, "show", "--json")
    assert shown["churn"]["version"] == "v0.2.0"
    assert {s: v for s, v in shown["churn"]["stage"].items() if v} == {
        "staging": "v0.2.0",
        "production": "v0.1.0",
    }
    theirs = list(reversed(_gto(clone, "history", "churn", "--json")))
    ours = views.history(backend.store, "churn")
    assert [(e["event"], e["version"], e["stage"], e["ref"]) for e in theirs] == [
        (e["event"], e["version"], e["stage"], e["tag"]) for e in ours
    ]


def _transcript(b: Backend) -> dict:
    """Everything a user can read back, with commit SHAs named by their subjects."""
    subjects = {
        sha: subject
        for sha, subject in (
            line.split(" ", 1) for line in b.git("log", "main", "--format=%H %s").splitlines()
        )
    }

    def name(text: str) -> str:
        for sha, subject in subjects.items():
            text = text.replace(sha, f"<{subject}>")
        return text

    messages = b.git("log", "main", "--format=%B%x00", "-11").split("\0")
    tags = b.git(
        "for-each-ref",
        "--format=%(refname:strip=2) %(objecttype) %(*objectname) %(taggerdate:unix) "
        "%(taggername) %(contents:subject)",
        "refs/tags",
    )
    return {
        "messages": [name(m.strip()) for m in messages],
        "tags": name(tags),
        "show": views.show(b.store),
        "history": {
            m: [
                {
                    **e,
                    "commit": name(e["commit"]),
                    "registry_commit": name(e["registry_commit"] or ""),
                }
                for e in views.history(b.store, m)
            ]
            for m in ("churn", "fraud")
        },
        "files": b.git("ls-tree", "-r", "main", "registry/"),
        "check": [str(p) for p in check.check(b.store)],
    }


def test_both_backends_leave_byte_identical_registries(request, tmp_path, capsys) -> None:
    local = local_backend(tmp_path / "a", capsys)
    remote = github_backend(tmp_path / "b", request.getfixturevalue("make_github_sim"))[0]
    story(local)
    story(remote)
    assert _transcript(remote) == _transcript(local)


pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is required")


class RollingBackFirst(RacingStore):
    """Another rollback of the same stage lands just before ours."""

    def write(self, parent, change, author):
        if self.races:
            self.races -= 1
            other = self.backend.registry(self.backend.new_store())
            other.rollback("churn", "production", audit_info=ask("bob"))
        return self.inner.write(parent, change, author)


def test_a_rollback_that_loses_the_race_to_another_rollback_writes_nothing(
    backend: Backend,
) -> None:
    from bot.registry.service import Superseded

    reg = backend.registry()
    for n in (1, 2):
        reg.register("churn", artifact=artifact(n), audit_info=ask("alice"))
        reg.promote("churn", f"v0.{n}.0", "staging", audit_info=ask("alice"))
        reg.promote("churn", f"v0.{n}.0", "production", audit_info=ask("alice"))
    racing = backend.registry(RollingBackFirst(backend, races=1))
    with pytest.raises(Superseded, match=r"v0\.2\.0 is no longer live in production"):
        # Re-planned on the new head, "the previous version" would be v0.2.0 again.
        racing.rollback("churn", "production", audit_info=ask("alice"), removes="v0.2.0")
    assert backend.registry().state("churn").live["production"] == "v0.1.0"
    subjects = backend.git("log", "main", "--format=%s", "-2").splitlines()
    assert subjects[0] == "registry: roll back churn production to v0.1.0"
    assert subjects[1] != subjects[0]


def test_a_rollback_planned_on_a_head_read_before_another_rollback_writes_nothing(
    backend: Backend,
) -> None:
    from bot.registry.service import Superseded

    reg = backend.registry()
    for n in (1, 2, 3):
        reg.register("churn", artifact=artifact(n), audit_info=ask("alice"))
        reg.promote("churn", f"v0.{n}.0", "staging", audit_info=ask("alice"))
        reg.promote("churn", f"v0.{n}.0", "production", audit_info=ask("alice"))
    read_earlier = backend.store.head()
    # Another owner's rollback lands after this one read the head (and judged v0.3.0 live).
    backend.registry(backend.new_store()).rollback(
        "churn", "production", audit_info=ask("bob"), removes="v0.3.0"
    )
    with pytest.raises(Superseded, match=r"v0\.3\.0 is no longer live in production"):
        reg.rollback(
            "churn",
            "production",
            audit_info=ask("alice"),
            removes="v0.3.0",
            known_head=read_earlier,
        )
    # One rollback, to v0.2.0: not a second one on top of it, down to v0.1.0.
    assert backend.registry().state("churn").live["production"] == "v0.2.0"
    subjects = backend.git("log", "main", "--format=%s", "-2").splitlines()
    assert subjects == [
        "registry: roll back churn production to v0.2.0",
        "registry: promote churn v0.3.0 to production",
    ]


def test_a_promotion_planned_on_a_head_read_earlier_loses_the_race_and_replans(
    backend: Backend,
) -> None:
    reg = backend.registry()
    reg.register("churn", artifact=artifact(1), audit_info=ask("alice"))
    read_earlier = backend.store.head()
    # Another writer moves the branch after the caller read its head.
    backend.registry(backend.new_store()).register(
        "fraud", artifact=artifact(2), audit_info=ask("racer")
    )
    out = reg.promote(
        "churn", "v0.1.0", "staging", audit_info=ask("alice"), known_head=read_earlier
    )
    assert out.attempts == 2
    assert backend.git("log", "main", "--format=%s", "-2").splitlines() == [
        "registry: promote churn v0.1.0 to staging",
        "registry: register fraud v0.1.0",
    ]
    assert check.check(backend.store) == []
