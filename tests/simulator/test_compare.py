"""`GET /repos/{o}/{r}/compare/{base}...{head}` and the caps of a `push` payload, as GitHub
documents them (every response here is validated against the OpenAPI description)."""

from __future__ import annotations

from bot.simulator import GitHubSimulator
from bot.simulator.webhooks import PUSH_COMMITS
from tests.simulator.helpers import http


def pushes(sim: GitHubSimulator, count: int, branch: str = "main") -> list[str]:
    return [
        sim.push("acme/models", branch, {"notes.txt": f"{i}\n"}, author="alice")
        for i in range(count)
    ]


def test_compare_lists_the_commits_oldest_first_page_by_page(make_github_sim) -> None:
    sim: GitHubSimulator = make_github_sim()
    sim.create_repo("acme/models")
    base = sim.push("acme/models", "main", {"a.txt": "a\n"}, author="alice")
    shas = pushes(sim, 7)
    with http(sim) as client:
        first = client.get(f"/repos/acme/models/compare/{base}...main", params={"per_page": 5})
        second = client.get(
            f"/repos/acme/models/compare/{base}...main", params={"per_page": 5, "page": 2}
        )
        unpaged = client.get(f"/repos/acme/models/compare/{base}...{shas[-1]}")
        behind = client.get(f"/repos/acme/models/compare/main...{base}")
        missing = client.get("/repos/acme/models/compare/main...nosuch")
    assert first.status_code == second.status_code == 200, first.text
    data = first.json()
    assert data["status"] == "ahead" and data["ahead_by"] == 7 and data["total_commits"] == 7
    listed = [c["sha"] for c in data["commits"]] + [c["sha"] for c in second.json()["commits"]]
    assert listed == shas
    assert [f["filename"] for f in data["files"]] == ["notes.txt"]
    assert second.json()["files"] == []
    assert [c["sha"] for c in unpaged.json()["commits"]] == shas
    assert behind.json()["status"] == "behind" and behind.json()["commits"] == []
    assert missing.status_code == 404


def test_a_push_payload_lists_at_most_2048_commits(make_github_sim, tmp_path) -> None:
    import subprocess

    sim: GitHubSimulator = make_github_sim()
    sim.create_repo("acme/models")
    root = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(sim.repo("acme/models").store.path), str(root)])
    stream = []
    for i in range(PUSH_COMMITS + 3):
        message = f"c{i}\n"
        stream += [
            "commit refs/heads/main",
            f"committer A <a@example.com> {1767225600 + i} +0000",
            f"data {len(message)}",
            message,
        ]
        if i == 0:
            stream.append("from refs/heads/main^0")
        stream += ["M 100644 inline n.txt", f"data {len(message)}", message]
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"],
        input="\n".join(stream) + "\n",
        text=True,
        check=True,
    )
    sim.push_git("acme/models", root, "main", pusher="alice")
    (push,) = [d for d in sim.webhooks.deliveries if d.event == "push"]
    assert len(push.payload["commits"]) == PUSH_COMMITS == 2048
    assert push.payload["head_commit"]["message"] == f"c{PUSH_COMMITS + 2}\n"
