"""Git data: commits (with their verification), refs, tags and trees."""

from __future__ import annotations

from typing import Any

import pygit2

from bot.simulator.bare_repo import mode_name
from bot.simulator.render.base import RenderBase, iso
from bot.simulator.signing import unsigned, verified
from bot.simulator.state import (
    Repo,
)


class GitJSON(RenderBase):
    def git_commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        commit = repo.store.get(sha, pygit2.GIT_OBJECT_COMMIT)
        base = f"{self.api}/repos/{repo.full_name}/git"
        out = self._schema("git-commit")

        def person(sig: pygit2.Signature) -> dict[str, Any]:
            return {"name": sig.name, "email": sig.email, "date": iso(sig.time)}

        out.update(
            sha=sha,
            node_id=self._node("Commit", sha),
            url=f"{base}/commits/{sha}",
            html_url=f"{self.web}/{repo.full_name}/commit/{sha}",
            author=person(commit.author),
            committer=person(commit.committer),
            message=commit.message,
            tree={"sha": str(commit.tree_id), "url": f"{base}/trees/{commit.tree_id}"},
            parents=[
                {
                    "sha": str(p),
                    "url": f"{base}/commits/{p}",
                    "html_url": f"{self.web}/{repo.full_name}/commit/{p}",
                }
                for p in commit.parent_ids
            ],
            verification=self.verification(repo, sha),
        )
        return out

    def verification(self, repo: Repo, sha: str) -> dict[str, Any]:
        at = self.sim.signed_commits.get(sha)
        if at is None:
            return unsigned()
        raw = repo.store.repo.get(sha).read_raw().decode("utf-8", "replace")
        return verified(raw, iso(at))

    def commit(self, repo: Repo, sha: str) -> dict[str, Any]:
        """The `commit` schema of GET /repos/{owner}/{repo}/commits/{ref}."""
        git = self.git_commit(repo, sha)
        out = self._schema("commit")
        author = self.sim.user_for_email(git["author"]["email"])
        committer = self.sim.user_for_email(git["committer"]["email"])
        out.update(
            url=f"{self.api}/repos/{repo.full_name}/commits/{sha}",
            sha=sha,
            node_id=git["node_id"],
            html_url=git["html_url"],
            comments_url=f"{self.api}/repos/{repo.full_name}/commits/{sha}/comments",
            commit={
                "url": git["url"],
                "author": git["author"],
                "committer": git["committer"],
                "message": git["message"],
                "comment_count": 0,
                "tree": git["tree"],
                "verification": git["verification"],
            },
            author=self.user(author) if author else None,
            committer=self.user(committer) if committer else None,
            parents=[
                {
                    "sha": p["sha"],
                    "url": f"{self.api}/repos/{repo.full_name}/commits/{p['sha']}",
                    "html_url": p["html_url"],
                }
                for p in git["parents"]
            ],
            files=[],
            stats={"additions": 0, "deletions": 0, "total": 0},
        )
        return out

    def git_ref(self, repo: Repo, name: str, sha: str) -> dict[str, Any]:
        """`name` is the full ref (refs/heads/main)."""
        obj = repo.store.get(sha)
        kind = {pygit2.GIT_OBJECT_TAG: "tag", pygit2.GIT_OBJECT_TREE: "tree"}.get(
            obj.type, "commit"
        )
        base = f"{self.api}/repos/{repo.full_name}/git"
        return {
            "ref": name,
            "node_id": self._node("Ref", f"{repo.id}:{name}"),
            "url": f"{base}/{name}",
            "object": {"type": kind, "sha": sha, "url": f"{base}/{kind}s/{sha}"},
        }

    def git_tag(self, repo: Repo, sha: str) -> dict[str, Any]:
        tag = repo.store.get(sha, pygit2.GIT_OBJECT_TAG)
        base = f"{self.api}/repos/{repo.full_name}/git"
        target = repo.store.get(str(tag.target))
        kind = {pygit2.GIT_OBJECT_TAG: "tag", pygit2.GIT_OBJECT_TREE: "tree"}.get(
            target.type, "commit"
        )
        out = self._schema("git-tag")
        out.update(
            sha=sha,
            node_id=self._node("Tag", sha),
            url=f"{base}/tags/{sha}",
            tag=tag.name,
            message=tag.message,
            tagger={
                "name": tag.tagger.name,
                "email": tag.tagger.email,
                "date": iso(tag.tagger.time),
            },
            object={"type": kind, "sha": str(tag.target), "url": f"{base}/{kind}s/{tag.target}"},
            verification=unsigned(),
        )
        return out

    def git_tree(self, repo: Repo, sha: str, recursive: bool) -> dict[str, Any]:
        tree = repo.store.get(sha, pygit2.GIT_OBJECT_TREE)
        base = f"{self.api}/repos/{repo.full_name}/git"
        entries: list[dict[str, Any]] = []

        def walk(t: pygit2.Tree, prefix: str) -> None:
            for e in t:
                kind = {
                    pygit2.GIT_FILEMODE_TREE: "tree",
                    pygit2.GIT_FILEMODE_COMMIT: "commit",
                }.get(e.filemode, "blob")
                item = {
                    "path": prefix + e.name,
                    "mode": mode_name(e.filemode),
                    "type": kind,
                    "sha": str(e.id),
                    "url": f"{base}/{kind}s/{e.id}",
                }
                if kind == "blob":
                    item["size"] = repo.store.repo.get(e.id).size
                entries.append(item)
                if kind == "tree" and recursive:
                    walk(repo.store.repo.get(e.id), prefix + e.name + "/")

        walk(tree, "")
        return {"sha": sha, "url": f"{base}/trees/{sha}", "tree": entries, "truncated": False}
