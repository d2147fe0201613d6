"""Markdown rendered as GitHub renders it, in headless Chromium, and checked on the DOM.

cmark-gfm (the `cmarkgfm` package, GitHub's own fork of cmark) with GitHub's
extensions turns a body into HTML; the page carries GitHub's Markdown CSS
(npm `github-markdown-css`) and Mermaid (npm `mermaid`), which parses and
draws every ```mermaid block as GitHub does. GitHub's alert blockquotes
(`> [!NOTE]`) are a post-processing step of GitHub's pipeline, not of
cmark-gfm: the page applies it the same way (a few lines of script).

`GitHubRenderer.render(markdown)` returns a `Rendered` whose methods return
the problems found (an empty list when the body renders cleanly), so a test
asserts `== []` and its failure message lists every problem at once.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
NODE = ROOT / "node_modules"
CSS = NODE / "github-markdown-css" / "github-markdown-light.css"
MERMAID = NODE / "mermaid" / "dist" / "mermaid.min.js"
EXTENSIONS = ["table", "strikethrough", "autolink", "tagfilter", "tasklist"]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The width of a comment in a GitHub conversation.
WIDTH = 860

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><style>{css}
body {{ margin: 0; background: #fff; }}
.markdown-body {{ box-sizing: border-box; width: {width}px; padding: 16px; }}
</style></head>
<body><article class="markdown-body">{html}</article></body></html>
"""

# GitHub's alerts, then every Mermaid block parsed (errors collected) and drawn.
SCRIPT = """async () => {
  const titles = {NOTE: 'Note', TIP: 'Tip', IMPORTANT: 'Important', WARNING: 'Warning',
                  CAUTION: 'Caution'};
  for (const quote of document.querySelectorAll('article blockquote')) {
    const first = quote.querySelector('p');
    const m = first && first.innerHTML.match(/^\\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\\]\\s*/);
    if (!m) continue;
    const div = document.createElement('div');
    div.className = 'markdown-alert markdown-alert-' + m[1].toLowerCase();
    const title = document.createElement('p');
    title.className = 'markdown-alert-title';
    title.textContent = titles[m[1]];
    first.innerHTML = first.innerHTML.slice(m[0].length);
    div.append(title, ...quote.childNodes);
    quote.replaceWith(div);
  }
  const errors = [];
  mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});
  let n = 0;
  for (const pre of document.querySelectorAll('pre[lang="mermaid"]')) {
    const code = pre.textContent;
    try {
      await mermaid.parse(code);
      const {svg} = await mermaid.render('mermaid-' + (n++), code);
      const box = document.createElement('div');
      box.className = 'mermaid-drawn';
      box.innerHTML = svg;
      pre.replaceWith(box);
    } catch (e) {
      errors.push(String(e && e.message || e));
    }
  }
  return errors;
}"""

# Text that shows Markdown or HTML syntax instead of what it should have rendered.
LEAKS = {
    "an HTML tag shown as text": re.compile(
        r"</?(details|summary|sub|sup|br|b|code|a|span)\b[^>]*>"
    ),
    "a table row shown as text": re.compile(r"^\s*\|.*\|\s*$", re.M),
    "bold markers shown as text": re.compile(r"\*\*\S"),
    "a code fence shown as text": re.compile(r"```|~~~"),
    "an alert marker shown as text": re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]"),
    "a template left unfilled": re.compile(r"\{\{|\{%|%\}|\}\}"),
    "a link shown as text": re.compile(r"\]\((https?:|#|/)"),
    "an HTML entity shown as text": re.compile(r"&(amp|lt|gt|quot|#\d+);"),
    'a "(s)" plural': re.compile(r"\w\(s\)"),
}


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    for path in (CSS, MERMAID):
        if not path.is_file():
            return f"{path} is missing (npm ci)"
    return None


@dataclass
class Rendered:
    """One body as the browser shows it."""

    markdown: str
    page: Any  # a Playwright Page
    mermaid_errors: list[str]

    @property
    def text(self) -> str:
        return self.page.inner_text("article")

    def first_line(self) -> str:
        """The first line a reader sees (the first rendered block's text)."""
        return self.page.evaluate(
            """() => {
              const el = [...document.querySelector('article').children]
                .find(e => e.innerText.trim() !== '');
              return el ? el.innerText.trim().split('\\n')[0] : '';
            }"""
        )

    def tables(self) -> list[dict[str, Any]]:
        """Every table: its header cells and the cell count of each body row."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('article table')].map(t => ({
              header: [...t.querySelectorAll('thead th')].map(th => th.textContent.trim()),
              rows: [...t.querySelectorAll('tbody tr')].map(tr => tr.children.length),
              summary: (t.closest('details')?.querySelector('summary')?.innerText || '').trim(),
            }))"""
        )

    def summaries(self) -> list[str]:
        """The titles of the collapsible blocks, in order."""
        return self.page.evaluate(
            "() => [...document.querySelectorAll('article summary')].map(s => s.innerText.trim())"
        )

    def open_details(self) -> list[str]:
        return self.page.evaluate(
            """() => [...document.querySelectorAll('article details[open] > summary')]
              .map(s => s.innerText.trim())"""
        )

    def expanded(self) -> tuple[str, list[dict[str, Any]]]:
        """Text and tables with every `<details>` opened, as a reader who opens them sees."""
        self.page.evaluate(
            """() => document.querySelectorAll('article details:not([open])').forEach(d => {
              d.dataset.closed = '1'; d.open = true; })"""
        )
        try:
            return self.text, self.tables()
        finally:
            self.page.evaluate(
                """() => document.querySelectorAll('article details[data-closed]').forEach(d => {
                  d.open = false; delete d.dataset.closed; })"""
            )

    def problems(self, *, literal_code: bool = False) -> list[str]:
        """Everything that did not render as GitHub would show it, in words.

        `literal_code`: inline code shows a person's words as typed (a reason with `<b>` or
        a link in it), so its text is not read for leaks; everything around it still is.
        """
        out = [f"Mermaid does not parse: {e}" for e in self.mermaid_errors]
        text, tables = self.expanded()
        if literal_code:
            text = self.page.evaluate(
                """() => { const a = document.querySelector('article').cloneNode(true);
                  a.querySelectorAll('details').forEach(d => d.open = true);
                  a.querySelectorAll('p code').forEach(c => c.replaceWith('·'));
                  document.body.append(a); const t = a.innerText; a.remove(); return t; }"""
            )
        for what, pattern in LEAKS.items():
            for found in pattern.finditer(text):
                out.append(f"{what}: {found.group(0)!r}")
        for i, table in enumerate(tables):
            header = table["header"]
            if not header or all(not cell for cell in header):
                out.append(f"table {i + 1} has an empty header row")
            for n in table["rows"]:
                if n != len(header):
                    out.append(f"table {i + 1} has a row of {n} cells under {len(header)} headers")
        return out

    def table_headers(self) -> list[list[str]]:
        return [t["header"] for t in self.tables()]

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.locator("article").screenshot(path=str(path))

    def height(self) -> int:
        return int(self.page.evaluate("() => document.querySelector('article').offsetHeight"))

    def element_height(self, selector: str) -> int:
        return int(
            self.page.evaluate(
                """(s) => Math.max(0, ...[...document.querySelectorAll(s)]
                  .map(e => e.getBoundingClientRect().height))""",
                selector,
            )
        )


def to_html(markdown: str) -> str:
    """HTML as GitHub's cmark-gfm makes it (raw HTML kept: GitHub sanitises, not drops)."""
    import cmarkgfm
    from cmarkgfm.cmark import Options

    return cmarkgfm.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG,
        extensions=EXTENSIONS,
    )


class GitHubRenderer:
    """One headless Chromium; a fresh page per body."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=LAUNCH_ARGS
        )
        self._css = CSS.read_text(encoding="utf-8")
        self._pages: list[Any] = []

    def render(self, markdown: str) -> Rendered:
        page = self._browser.new_page(viewport={"width": WIDTH + 40, "height": 800})
        self._pages.append(page)
        # No network: a body must not depend on anything outside the page.
        page.route("**/*", lambda route: route.abort())
        page.set_content(PAGE.format(css=self._css, width=WIDTH, html=to_html(markdown)))
        page.add_script_tag(content=MERMAID.read_text(encoding="utf-8"))
        errors = page.evaluate(SCRIPT)
        return Rendered(markdown, page, errors)

    def close(self) -> None:
        for page in self._pages:
            page.close()
        self._browser.close()
        self._playwright.stop()


def screenshot_dir() -> Path | None:
    """Where `make screenshots` wants the pictures (MLBOT_SCREENSHOTS), or None."""
    where = os.environ.get("MLBOT_SCREENSHOTS")
    return Path(where) if where else None
