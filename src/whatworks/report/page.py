"""The self-contained ``report.html``: the answer first, a table of contents, numbered figures and tables.

Sections render in order; a section whose id is in :data:`LEAD_SECTIONS` (the bottom line) is placed
under the title, before the table of contents. Figures are embedded as data URIs; nothing is fetched from
elsewhere. The layout reflows down to 360 px (wide tables scroll inside their own box) and prints without
cut tables, with every ``<details>`` open.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence

from .api import SectionOutput

#: Sections placed under the title, before the table of contents.
LEAD_SECTIONS = ("bottom-line",)

CSS = """
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 72rem; margin: 0 auto;
       padding: 0 1rem 3rem; color: #222; line-height: 1.5; overflow-wrap: break-word; }
h1 { font-size: clamp(1.3rem, 4.5vw, 1.8rem); line-height: 1.25; margin: 1rem 0 .4rem; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2.2em; }
h3 { font-size: 1.05em; margin-top: 1.6em; }
a { color: #0b5394; }
.bottom-line { border-left: 6px solid #0072B2; background: #f2f6fa; padding: .6rem 1rem .7rem; margin: .6rem 0 1rem; }
.bottom-line h2 { border: 0; margin: 0 0 .3em; font-size: 1.1em; text-transform: uppercase; letter-spacing: .04em;
                  color: #0b4a75; }
.bottom-line p { margin: .35em 0; }
.bottom-line .question { font-weight: 600; }
.bottom-line .verdict { font-size: 1.12em; }
.bottom-line ul { margin: .3em 0; padding-left: 1.2em; }
.bottom-line .run { color: #555; font-size: .82em; }
.bottom-line code { font-size: .95em; word-break: break-all; }
nav.toc { font-size: .92em; }
nav.toc > ol { columns: 2 20rem; column-gap: 2rem; margin: .3em 0; }
nav.toc li { break-inside: avoid; }
nav.toc ol ol { font-size: .92em; margin: 0; padding-left: 1.1em; list-style: none; }
.meta { color: #555; font-size: .88em; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 1em 0; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; font-size: .85em; }
.tcaption { font-weight: 600; font-size: .88em; margin: 1.2em 0 .2em; }
th, td { border-bottom: 1px solid #ddd; padding: .3em .6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; font-weight: 600; }
td { font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
td details { display: inline; } td details[open] { display: block; }
summary { cursor: pointer; color: #0b5394; }
figure { margin: 1.5em 0; max-width: 100%; }
.fig-scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85em; color: #444; margin-top: .3em; }
figcaption b, caption b { color: #222; }
pre { background: #f7f7f7; padding: .6em; overflow-x: auto; max-width: 100%; font-size: .8em; }
dl.legend { display: grid; grid-template-columns: max-content 1fr; gap: .15em 1em; font-size: .85em; margin: .5em 0 1em; }
dl.legend dt { font-weight: 600; } dl.legend dd { margin: 0; }
.interpretation { background: #fafafa; border-left: 3px solid #bbb; padding: .3em .8em; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px; margin-right: .35em;
          vertical-align: -.05em; }
ol.refs li { margin: .2em 0; }
@media (max-width: 40rem) {
  body { padding: 0 .7rem 2rem; }
  nav.toc > ol { columns: 1; }
  dl.legend { grid-template-columns: 1fr; } dl.legend dd { margin: 0 0 .4em; }
  table { font-size: .78em; }
  th, td { padding: .25em .4em; }
  .fig-scroll img { max-width: none; width: auto; }
  table.reflow, table.reflow tbody, table.reflow tr, table.reflow td { display: block; width: 100%; }
  table.reflow thead { display: none; }
  table.reflow tr { border-bottom: 2px solid #ccc; padding: .4em 0; }
  table.reflow td { border: 0; padding: .1em 0; white-space: normal; }
  table.reflow td::before { content: attr(data-label) ": "; font-weight: 600; }
  .bottom-line { padding: .5rem .7rem; } .bottom-line ul { padding-left: 1em; }
}
@media print {
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  .table-wrap { overflow: visible; }
  table { width: 100%; font-size: 7.5pt; }
  th, td { overflow-wrap: anywhere; } td.num { white-space: nowrap; overflow-wrap: normal; }
  tr, figure, .bottom-line, dl.legend { break-inside: avoid; }
  h2, h3, .tcaption { break-after: avoid; }
  .fig-scroll { overflow: visible; }
  pre { white-space: pre-wrap; }
  details > summary { display: none; }
  details::details-content { content-visibility: visible; display: contents; }
  td details { display: block; }
  a { color: inherit; text-decoration: none; }
}
""".strip()

#: Opens every ``<details>`` before printing (the print style also shows their content where supported).
PRINT_SCRIPT = ('addEventListener("beforeprint",function(){document.querySelectorAll("details")'
                '.forEach(function(d){d.setAttribute("open","")})});')

MIME = {"svg": "image/svg+xml", "png": "image/png"}
_REF = re.compile(r"\{\{figure:([A-Za-z0-9_.-]+)\}\}")
_H3 = re.compile(r"<h3>(.*?)</h3>", re.S)


def figure_html(name: str, caption: str, data: bytes, fmt: str, links: Sequence[str]) -> str:
    """A ``<figure>`` with the image embedded as a base64 data URI and links to the written files."""
    uri = f"data:{MIME[fmt]};base64,{base64.b64encode(data).decode('ascii')}"
    files = " ".join(f'<a href="{html.escape(p)}">{html.escape(p.rsplit(".", 1)[-1].upper())}</a>' for p in links)
    return (f'<figure id="fig-{html.escape(name)}"><div class="fig-scroll"><img src="{uri}" '
            f'alt="{html.escape(caption)}"></div><figcaption>{html.escape(caption)} {files}</figcaption></figure>')


def _slug(text: str) -> str:
    plain = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^a-z0-9]+", "-", html.unescape(plain).lower()).strip("-")[:48] or "part"


def _subsections(section: SectionOutput, body: str) -> tuple[str, list[tuple[str, str]]]:
    """The body with an id on every ``<h3>``, and the (id, title) pairs for the table of contents."""
    subs: list[tuple[str, str]] = []

    def add_id(m: re.Match[str]) -> str:
        sid = f"{section.id}-{_slug(m.group(1))}"
        while any(s == sid for s, _ in subs):
            sid += "-2"
        subs.append((sid, m.group(1)))
        return f'<h3 id="{html.escape(sid)}">{m.group(1)}</h3>'

    return _H3.sub(add_id, body), subs


def number_figures_and_tables(page: str) -> str:
    """Prefix every figure caption with "Figure N." and every table caption with "Table N.", in page order."""
    counts = {"fig": 0, "tab": 0}

    def fig(m: re.Match[str]) -> str:
        counts["fig"] += 1
        return f"{m.group(0)}<b>Figure {counts['fig']}.</b> "

    def tab(m: re.Match[str]) -> str:
        counts["tab"] += 1
        return f"{m.group(0)}<b>Table {counts['tab']}.</b> "

    return re.sub(r'<p class="tcaption">', tab, re.sub(r"<figcaption>", fig, page))


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

    lead, parts, toc = [], [], []
    for s in sections:
        body = _REF.sub(embed, s.html)
        if s.id in LEAD_SECTIONS:
            lead.append(f'<section id="{html.escape(s.id)}" class="{html.escape(s.id)}"><h2>{html.escape(s.title)}'
                        f"</h2>\n{body}\n</section>")
            continue
        body, subs = _subsections(s, body)
        sub = "".join(f'<li><a href="#{html.escape(i)}">{t}</a></li>' for i, t in subs)
        toc.append(f'<li><a href="#{html.escape(s.id)}">{html.escape(s.title)}</a>'
                   f"{'<ol>' + sub + '</ol>' if sub else ''}</li>")
        parts.append(f'<section id="{html.escape(s.id)}"><h2>{html.escape(s.title)}</h2>\n{body}\n</section>')
    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style><script>{PRINT_SCRIPT}</script></head><body>",
        f"<header><h1>{html.escape(title)}</h1></header>",
        *lead,
        f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>',
        f'<p class="meta">{intro}</p>',
        "<main>",
        *parts,
        "</main>",
        "</body></html>",
        "",
    ])
    return number_figures_and_tables(page)
