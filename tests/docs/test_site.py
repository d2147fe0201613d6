"""The documentation: a short README front page, and the reference that MkDocs builds strictly."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_builds_the_reference_strictly(tmp_path: Path) -> None:
    # --strict: a page missing from nav, a broken link or anchor fails the build.
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "index.html").is_file()


def test_the_readme_is_a_front_page_whose_links_and_pictures_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text) < 12_000, "the reference belongs in docs/, not the README"
    assert "make demo" in text and "make test" in text
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert local, "the README links the docs"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == []
    assert any(t.startswith("docs/screenshots/") for t in local)
