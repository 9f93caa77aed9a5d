"""The self-contained ``report.html``: sections in order, figures embedded as data URIs, no external files."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence

from .api import SectionOutput

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: .85em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td { font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: .85em; color: #555; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: .8em; }
nav ol { columns: 2; } .meta { color: #555; font-size: .9em; }
""".strip()

MIME = {"svg": "image/svg+xml", "png": "image/png"}
_REF = re.compile(r"\{\{figure:([A-Za-z0-9_.-]+)\}\}")


def figure_html(name: str, caption: str, data: bytes, fmt: str, links: Sequence[str]) -> str:
    """A ``<figure>`` with the image embedded as a base64 data URI and links to the written files."""
    uri = f"data:{MIME[fmt]};base64,{base64.b64encode(data).decode('ascii')}"
    files = " ".join(f'<a href="{html.escape(p)}">{html.escape(p.rsplit(".", 1)[-1].upper())}</a>' for p in links)
    return (f'<figure id="fig-{html.escape(name)}"><img src="{uri}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)} {files}</figcaption></figure>")


def render_page(
    title: str,
    intro: str,
    sections: Sequence[SectionOutput],
    figures: Mapping[str, str],
) -> str:
    """The whole page. ``figures`` maps figure names to their ``<figure>`` HTML (see :func:`figure_html`).

    A reference to a figure no section drew is replaced by a visible note rather than failing.
    """
    def embed(match: re.Match[str]) -> str:
        name = match.group(1)
        return figures.get(name, f"<p><em>(figure {html.escape(name)} not drawn)</em></p>")

    toc = "".join(f'<li><a href="#{html.escape(s.id)}">{html.escape(s.title)}</a></li>' for s in sections)
    parts = [f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.title)}</h2>\n{_REF.sub(embed, s.html)}\n</section>'
             for s in sections]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{intro}</p>',
        f"<nav><ol>{toc}</ol></nav>",
        *parts,
        "</body></html>",
        "",
    ])
