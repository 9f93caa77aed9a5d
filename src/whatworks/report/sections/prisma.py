"""Report section: the PRISMA 2020 flow of study selection of every review whose review.toml records one."""

from __future__ import annotations

import pandas as pd

from ...data.prisma import load_prisma, prisma_frame, prisma_note
from ...data.validate import discover
from ...plots import _style as st
from ...plots import prisma_plot
from ..api import ReportContext, ReportFigure, SectionOutput, esc, figure_ref, html_table


def section_prisma(ctx: ReportContext) -> SectionOutput | None:
    """One PRISMA 2020 flow diagram and table per review with a ``[prisma]`` table (none: no section)."""
    if ctx.root is None:
        return None
    flows = load_prisma(discover(ctx.root))
    if ctx.options.reviews:
        flows = {rid: flow for rid, flow in flows.items() if rid in ctx.options.reviews}
    if not flows:
        return None
    body = ["<p>How the studies of each review were found and selected, in the layout of the PRISMA 2020 flow "
            "diagram (Page et al. 2021, BMJ 372:n71): records identified per source, screened and excluded; reports "
            "sought, retrieved and assessed; reports excluded with their reasons; studies included. The counts are "
            "those the review (or, for the living review, its search log) records; a box that says 'not recorded' "
            "has no number in the source, and none is estimated.</p>"]
    figures, frames = [], []
    for rid, flow in sorted(flows.items()):
        ctx.log(f"PRISMA flow of {rid}")
        name = f"prisma_{rid}"
        note = prisma_note(flow)
        ax = prisma_plot(flow, note=note, title=f"{rid}: selection of studies")
        figures.append(ReportFigure(name, st.figure_of(ax), f"PRISMA 2020 flow diagram of {rid}. {note}"))
        frame = prisma_frame(flow)
        frames.append(frame.assign(review=rid)[["review", "step", "detail", "n"]])
        shown = frame.assign(n=frame["n"].astype(object).where(frame["n"].notna(), "not recorded"))
        body += [f"<h3>{esc(rid)}</h3>", figure_ref(name), f"<p>{esc(note)}</p>", html_table(shown)]
    table = pd.concat(frames, ignore_index=True)
    return SectionOutput("prisma", "Study selection (PRISMA 2020 flow)", "\n".join(body), figures=tuple(figures),
                         tables=(("prisma", table),))
