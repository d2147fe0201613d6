"""Repositories and their contents."""

from __future__ import annotations

import base64
from typing import Any

import pygit2

from bot.simulator.render.base import RenderBase
from bot.simulator.state import (
    Repo,
)


class ReposJSON(RenderBase):
    def repo(self, repo: Repo, schema: str = "full-repository") -> dict[str, Any]:
        out = self._schema("repository")
        out.update(self._schema(schema))
        base = f"{self.api}/repos/{repo.full_name}"
        urls = {
            k: f"{base}/{k.removesuffix('_url')}"
            for k in out
            if k.endswith("_url") and isinstance(out[k], str) and k not in {"html_url"}
        }
        out.update(urls)
        pushed = repo.created_at
        out.update(
            id=repo.id,
            node_id=self._node("Repository", repo.id),
            name=repo.name,
            full_name=repo.full_name,
            owner=self.user(repo.owner),
            private=repo.private,
            visibility="private" if repo.private else "public",
            fork=repo.fork_of is not None,
            url=base,
            html_url=f"{self.web}/{repo.full_name}",
            clone_url=f"{self.web}/{repo.full_name}.git",
            git_url=f"git://example.test/{repo.full_name}.git",
            ssh_url=f"git@example.test:{repo.full_name}.git",
            svn_url=f"{self.web}/{repo.full_name}",
            mirror_url=None,
            homepage=None,
            description=None,
            language=None,
            default_branch=repo.default_branch,
            created_at=repo.created_at,
            updated_at=repo.created_at,
            pushed_at=pushed,
            archived=False,
            disabled=False,
            has_issues=True,
            has_projects=False,
            has_wiki=False,
            has_pages=False,
            has_discussions=False,
            has_downloads=False,
            is_template=False,
            allow_forking=True,
            web_commit_signoff_required=False,
            topics=[],
            license=None,
        )
        if "network_count" in out:  # full-repository: its settings, as GitHub sends them
            out.update(
                network_count=0,
                subscribers_count=0,
                allow_merge_commit=True,
                allow_squash_merge=True,
                allow_rebase_merge=True,
                allow_auto_merge=False,
                allow_update_branch=False,
                delete_branch_on_merge=False,
                use_squash_pr_title_as_default=False,
            )
            if self.sim.user(repo.owner).type == "Organization":
                out["organization"] = self.user(repo.owner)
        return out

    def content(self, repo: Repo, path: str, obj: Any, ref: str) -> Any:
        base = f"{self.api}/repos/{repo.full_name}"

        def item(p: str, o: Any, kind: str) -> dict[str, Any]:
            api = f"{base}/contents/{p}?ref={ref}"
            git = f"{base}/git/{'trees' if kind == 'dir' else 'blobs'}/{o.id}"
            html = f"{self.web}/{repo.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{p}"
            return {
                "type": kind,
                "name": p.rsplit("/", 1)[-1],
                "path": p,
                "sha": str(o.id),
                "size": o.size if kind == "file" else 0,
                "url": api,
                "git_url": git,
                "html_url": html,
                "download_url": f"{self.web}/raw/{repo.full_name}/{ref}/{p}"
                if kind == "file"
                else None,
                "_links": {"self": api, "git": git, "html": html},
            }

        if obj.type == pygit2.GIT_OBJECT_TREE:
            out = []
            for e in obj:
                child = repo.store.repo.get(e.id)
                kind = "dir" if child.type == pygit2.GIT_OBJECT_TREE else "file"
                out.append(item(f"{path.strip('/')}/{e.name}".lstrip("/"), child, kind))
            return out
        out = item(path.strip("/"), obj, "file")
        out.update(encoding="base64", content=base64.encodebytes(obj.data).decode())
        return out
