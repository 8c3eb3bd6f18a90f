"""Write the report three ways: report.html, report.json and report.md (with its picture).

- report.html: the headline, every table and every figure in ONE file, plotly.js inline. A
  capacity report gets attached to tickets and opened months later, offline or behind a proxy,
  when a CDN link may be dead; it must open from disk with no network at all.
- report.json: the report model itself, so tools (and `stampede compare`) read it back exactly.
- report.md: the run's picture (report-timeline.svg, beside it), the headline and the tables,
  for a pull request or a ticket.

Both the HTML and the Markdown open with the run's picture (`run_picture.py`), the headline
beside it in the HTML, each line a link to the section that tells it in full.

The HTML and Markdown are laid out from one list of sections, so they differ only in that the
Markdown has no figures but the picture.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from loadtests.metrics import OUTCOME_LABELS, Outcome, Percentiles
from loadtests.profiles import RequestClass
from loadtests.report.audit import audit_lines
from loadtests.report.capacity import ScaleOut
from loadtests.report.picture_plot import picture_figure
from loadtests.report.picture_svg import picture_svg
from loadtests.report.plots import (
    LIMIT_NAMES,
    depth_figure,
    errors_figure,
    exchange_figure,
    feed_figure,
    latency_figure,
    rate_limit_figure,
    scale_out_figure,
    staleness_figure,
    throughput_figure,
    timeline_figure,
)
from loadtests.report.recovery import recovery_table
from loadtests.report.run_picture import run_picture
from loadtests.report.run_settings import run_settings
from loadtests.report.schema import LOAD_MACHINE_BUSY_PCT, Report, percentile
from loadtests.report.tables import Table
from loadtests.report.units import cpu, millis, multiple, num, rate, share
from loadtests.report.verdict_tables import marked, slo_table, staleness_table, steps_table
from loadtests.results import StepSummary

HTML_FILE = "report.html"
JSON_FILE = "report.json"
MARKDOWN_FILE = "report.md"
PICTURE_FILE = "report-timeline.svg"
RECOVERY_SECTION = "Outages and recovery"
HEADLINE_SECTIONS = (
    ("Stale", "Stale position reads"),
    ("Rate limit", "Rate limits"),
    ("Feed", "Liquidation feed"),
    ("Saturation knee", "Load and saturation"),
    ("Capacity", "Capacity"),
    ("Scale", "Capacity"),
    ("Likely bottleneck", "Likely bottleneck"),
    ("Conservation audit", "Run"),
    ("The set was interrupted", "Run"),
    ("Recovered", RECOVERY_SECTION),
    ("Did not recover", RECOVERY_SECTION),
    ("Not rehearsed", RECOVERY_SECTION),
)
"""The section a headline line opening so goes on in; any other line is an SLO's."""
SLO_SECTION = "SLOs: where each one begins to break"
NONE = "—"

LOAD_COLUMNS = (
    "#",
    "step",
    "load",
    "offered req/s",
    "served req/s",
    "served",
    "",
    "host CPU",
    "generator CPU",
    "behind, senders free",
)
"""The load machine's columns last: they qualify the step's figures rather than add to them."""
CLASS_COLUMNS = (
    "#",
    "step",
    "offered/s",
    "achieved/s",
    "p50",
    "p99",
    "p99.9",
    "raw p99",
    "late sends",
)
STALENESS_COLUMNS = ("stale", "stale age p99", "journal lag p99", "inconsistent", "moved by venue")
DEPTH_COLUMNS = (
    "#",
    "step",
    "events",
    "lag p50",
    "lag p99",
    "gaps",
    "resyncs",
    "top differs",
    "ticks off p99",
)
FAILURES_COLUMN = "did not succeed"
"""Last, as the one cell that may wrap."""
FEED_COLUMNS = (
    "#",
    "step",
    "events",
    "liquidations",
    "completeness",
    "lag p50",
    "lag p99",
    "clock skewed",
)

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
       max-width: 1400px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
.opening { display: grid; grid-template-columns: minmax(0, 1fr) 22em; gap: 1em;
           align-items: start; }
.opening .plot { margin: 0; }
ul.headline { background: #f6f8fa; border-left: 4px solid #1f77b4;
              padding: 0.8em 1em 0.8em 2em; font-size: 1.0em; margin: 0; }
ul.headline li { margin: 0.35em 0; }
ul.headline a { color: inherit; text-decoration: none; }
ul.headline a:hover { text-decoration: underline; }
table { border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }
.table { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: right; white-space: nowrap; }
th { background: #f6f8fa; }
td:first-child, th:first-child, td:nth-child(2), th:nth-child(2),
td:last-child, th:last-child { text-align: left; }
td:last-child { white-space: normal; min-width: 10em; }
.plot { margin: 1em 0; }
td.headline { text-align: left; white-space: normal; min-width: 30em; }
.note { color: #555; }
"""


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plot:
    figure: go.Figure


@dataclass(frozen=True, slots=True)
class Folded:
    """Blocks a reader opens when needed: `<details>` in HTML and in Markdown, which GitHub and
    most ticket systems render folded too."""

    summary: str
    blocks: tuple[Table, ...]


Block = Text | Bullets | Table | Plot | Folded


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class ReportFiles:
    html: Path
    json: Path
    markdown: Path
    picture: Path


def write_report(report: Report, directory: Path) -> ReportFiles:
    """Write the three files into `directory` (created if need be)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(
        html=directory / HTML_FILE,
        json=directory / JSON_FILE,
        markdown=directory / MARKDOWN_FILE,
        picture=directory / PICTURE_FILE,
    )
    files.picture.write_text(picture_svg(run_picture(report)), encoding="utf-8")
    files.html.write_text(to_html(report), encoding="utf-8")
    files.json.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    files.markdown.write_text(to_markdown(report), encoding="utf-8")
    return files


def read_report(path: Path) -> Report:
    """A report.json read back into the model."""
    return Report.model_validate_json(path.read_text(encoding="utf-8"))


def to_markdown(report: Report) -> str:
    found = sections(report, draw=False)
    titles = {section.title for section in found if section.blocks}
    parts = [
        f"# {_title(report)}",
        "",
        f"![The run at a glance: load, p99s, stale reads, timeouts, liquidations]({PICTURE_FILE})",
        "",
        # GitHub and GitLab name a heading's anchor as `_anchor` does.
        *(f"- [{line}](#{_anchor(_section_of(line, titles))})" for line in report.headline),
        "",
    ]
    for section in found:
        if not section.blocks:
            continue
        parts += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Text):
                parts += [block.text, ""]
            elif isinstance(block, Bullets):
                parts += [*(f"- {item}" for item in block.items), ""]
            elif isinstance(block, Table):
                parts.append(block.markdown())
            elif isinstance(block, Folded):
                parts += [
                    f"<details><summary>{escape(block.summary)}</summary>",
                    "",
                    *(table.markdown() for table in block.blocks),
                    "</details>",
                    "",
                ]
    return "\n".join(parts).rstrip() + "\n"


def to_html(report: Report) -> str:
    plots = 1
    found = sections(report)
    titles = {section.title for section in found}
    body = [
        f"<h1>{escape(_title(report))}</h1>",
        f'<p class="note">{escape(report.profile.description)}</p>',
        '<div class="opening">',
        plot_html(picture_figure(run_picture(report)), "plot-1"),
        '<ul class="headline">',
        *(
            f'<li><a href="#{_anchor(_section_of(line, titles))}">{escape(line)}</a></li>'
            for line in report.headline
        ),
        "</ul></div>",
    ]
    for section in found:
        body.append(f'<h2 id="{_anchor(section.title)}">{escape(section.title)}</h2>')
        for block in section.blocks:
            if isinstance(block, Text):
                body.append(f'<p class="note">{escape(block.text)}</p>')
            elif isinstance(block, Bullets):
                body.append(
                    "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
                )
            elif isinstance(block, Table):
                body.append(block.html())
            elif isinstance(block, Folded):
                tables = "".join(table.html() for table in block.blocks)
                body.append(
                    f"<details><summary>{escape(block.summary)}</summary>{tables}</details>"
                )
            else:
                plots += 1
                body.append(plot_html(block.figure, f"plot-{plots}"))
    return html_page(_title(report), body)


def html_page(title: str, body: list[str]) -> str:
    """A page that opens from disk with no network: the style and plotly.js inline."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        f"<style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def plot_html(figure: go.Figure, div_id: str) -> str:
    # Fixed ids keep two renders of one report byte-identical, which makes them diffable.
    plot: str = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        config=PLOT_CONFIG,
        div_id=div_id,
        default_width="100%",
    )
    return f'<div class="plot">{plot}</div>'


def _section_of(line: str, titles: set[str]) -> str:
    """The section a headline line is told in full, among those the page has."""
    return next(
        (title for start, title in HEADLINE_SECTIONS if line.startswith(start) and title in titles),
        SLO_SECTION,
    )


def _anchor(title: str) -> str:
    """A section's id: its title in lower case, words joined by hyphens."""
    return "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())


def _title(report: Report) -> str:
    return f"Capacity report: {report.run}"


def sections(report: Report, *, draw: bool = True) -> list[Section]:
    """The report's body after the headline, in reading order; figures only when `draw`, as
    drawing them is most of the work and Markdown has no use for them."""

    def plots(*make: Callable[[Report], go.Figure]) -> tuple[Block, ...]:
        return tuple(Plot(figure(report)) for figure in make) if draw else ()

    found = [
        Section(
            SLO_SECTION,
            (Text(_slo_note(report)), slo_table(report), steps_table(report)),
        ),
        Section(
            "Load and saturation",
            (*plots(throughput_figure), load_table(report), *_load_machine_note(report)),
        ),
        _capacity_section(report, plots(scale_out_figure) if report.scale_out else ()),
        _bottleneck_section(report, plots(exchange_figure) if report.exchange else ()),
        Section(
            "Latency and errors per class",
            (
                *plots(latency_figure, errors_figure),
                *(class_table(report, klass) for klass in RequestClass),
            ),
        ),
    ]
    if report.measured_staleness:
        shape = (staleness_table(report),) if report.staleness else ()
        found.append(Section("Stale position reads", (*plots(staleness_figure), *shape)))
    found.append(
        Section("Liquidation feed", (*plots(feed_figure), feed_table(report)))
        if report.measured_feed
        else Section("Liquidation feed", (Text("The feed saw no liquidations in this run."),))
    )
    if report.measured_depth:
        section = (*plots(depth_figure), depth_note(), depth_table(report))
        found.append(Section("Depth stream and local books", section))
    found.append(Section("Rate limits", (*plots(rate_limit_figure), rate_limit_table(report))))
    if report.recoveries:
        found.append(Section(RECOVERY_SECTION, (recovery_table(report.recoveries),)))
    if not report.ramp:
        found.append(_timeline_section(report, plots))
    found.append(_run_section(report))
    return found


def _timeline_section(
    report: Report, plots: Callable[[Callable[[Report], go.Figure]], tuple[Block, ...]]
) -> Section:
    figure = plots(lambda shown: timeline_figure(shown.profile, shown.timeline))
    if not report.timeline:
        return Section("Profile timeline", figure)
    note = Text(
        "Sampled once a second: prices as their move from the first sample; liquidations per "
        "second as the exchange counted them (true, where it publishes a count) and as its "
        "public feed pushed them, which Binance limits to one per symbol per second."
    )
    return Section("Profile timeline", (*figure, note))


def _slo_note(report: Report) -> str:
    where = "the step" if report.ramp else "the phase"
    return (
        f"Each objective is judged step by step by its value's 95% interval: {where} breaks it "
        "when the whole interval lies beyond the threshold, is borderline when the interval "
        "straddles it, and has too few samples when it is within as far as measured but the "
        "samples cannot show it. It begins to break at the first step that breaks it. Where "
        "the load generator was the limit, latency and timeouts are inconclusive, not the "
        "venue's failure. Latency is measured from each request's intended send time "
        "(corrected). Req/s count orders and position queries."
    )


def load_table(report: Report) -> Table:
    saturation = report.saturation
    marks: dict[int, str] = {}
    if saturation is not None:
        if saturation.falls_behind is not None:
            marks[saturation.falls_behind.step] = "falls behind"
        if saturation.knee is not None:
            marks[saturation.knee.step] = "knee"
    rows = tuple(
        (
            str(step.index),
            marked(report, step.index, step.name),
            multiple(step.multiple),
            num(step.offered_rate),
            num(step.served_rate),
            share(step.served_rate / step.offered_rate) if step.offered_rate else NONE,
            marks.get(step.index, ""),
            _opt(step.host_cpu, cpu),
            _opt(step.generator_cpu, cpu),
            _opt(step.behind_free_s, lambda seconds: millis(seconds * 1000)),
        )
        for step in report.steps
    )
    return Table("Offered vs served (orders + queries)", LOAD_COLUMNS, rows)


def _load_machine_note(report: Report) -> tuple[Block, ...]:
    """What the load table's CPU columns measure; none for a run that did not sample them."""
    if not report.measured_load_machine:
        return ()
    return (
        Text(
            "Host CPU: every core of the machine the run was driven from, the exchange's share "
            "included where it runs there; generator CPU: the busiest Locust runner process's, "
            "as Locust measures it (100% is one core; over 10 s, so it lags the load, and 0 in "
            f"a runner's first 20 s). At {cpu(LOAD_MACHINE_BUSY_PCT)} or more, a step's latency "
            "and timeouts include the load machine's own lag. Behind, senders free: how far the "
            "load fell behind its schedule while its senders were not waiting on the target, "
            "the generator's own lag. A step marked (generator-bound) was either; its latency "
            "and timeout verdicts are inconclusive."
        ),
    )


def _capacity_section(report: Report, scale_out_plots: tuple[Block, ...]) -> Section:
    plan = report.capacity
    if plan is None:
        return Section(
            "Capacity",
            (
                Text(
                    "Capacity is read from a step ramp, whose load rises step by step; this "
                    "profile's does not, so its steps are judged against the SLOs only."
                ),
            ),
        )
    limited_by = plan.limiting_slo.label if plan.limiting_slo is not None else plan.limit.value
    orders = rate(plan.sustainable_order_rate, "orders/s")
    queries = rate(plan.sustainable_query_rate, "queries/s")
    rows = (
        ("holds", f"{multiple(plan.sustainable_multiple)} baseline, {rate(plan.sustainable_rate)}"),
        ("of which", f"{orders}, {queries}"),
        ("set by", limited_by + (" (a lower bound)" if plan.lower_bound else "")),
        ("most ever served", rate(plan.ceiling_rate)),
        ("surge", f"{multiple(plan.surge_multiple)} baseline, {rate(plan.surge_rate)}"),
        ("capacity ÷ surge", share(plan.headroom)),
    )
    blocks: list[Block] = [Table("Capacity plan", ("", "value"), rows)]
    if plan.scale_out is not None:
        blocks += [
            scale_out_table(report, plan.scale_out),
            *scale_out_plots,
            Text(plan.scale_out.verdict),
        ]
    blocks += [Text("Assumptions:"), Bullets(plan.assumptions)]
    return Section("Capacity", tuple(blocks))


def scale_out_table(report: Report, scale_out: ScaleOut) -> Table:
    """Each run the scale-out fit went through, beside what the fit says of its worker count:
    how far apart they are is how far to trust the fit."""
    fit = scale_out.fit
    rows = tuple(
        (
            point.run,
            str(point.api_workers),
            num(point.sustainable_rate),
            num(fit.throughput(point.api_workers)),
        )
        for point in report.scale_out_runs
    )
    return Table(
        "Scale-out runs",
        ("run", "API workers", "sustainable req/s", "USL fit req/s"),
        rows,
    )


def _bottleneck_section(report: Report, figures: tuple[Block, ...]) -> Section:
    evidence = report.evidence
    if evidence is not None:
        note = Text(
            "Measured on the exchange: each second the run sampled the engine's queue, the "
            "projector's lag behind the journal, every exchange process's CPU, the API's "
            "requests in flight and shed, and Redis's round trips and CPU. A component is named "
            "where its backlog grew or it turned work away, earliest first, with the CPU of "
            f"the process that runs it. Highest seen: {evidence.seen}."
        )
        found = (
            Bullets(
                tuple(
                    f"{f.line} (from {report.steps[f.step].label}, at {f.began_at:.0f} s)"
                    for f in evidence.findings
                )
            )
            if evidence.findings
            else Text("No component's backlog grew past its floor: the exchange kept up.")
        )
        return Section("Bottleneck", (note, found, *figures))
    note = Text(
        "A heuristic, from client-side symptoms: the target reported none of its internals "
        "(the mock's operator snapshot), so this names the component the earliest symptom "
        "points at (journal lag → projector; order 408s with fast reads → engine queue; 503s, "
        "or -1021s and client timeouts while order 408s hold → API concurrency; feed lag → feed "
        "publisher). Confirm it on the exchange before buying hardware."
    )
    if not report.bottlenecks:
        return Section(
            "Likely bottleneck", (note, Text("No symptom in this run points at a component."))
        )
    items = tuple(
        f"{b.component}, from {report.steps[b.step].label}: {b.evidence}"
        for b in report.bottlenecks
    )
    return Section("Likely bottleneck", (note, Bullets(items)))


def class_table(report: Report, klass: RequestClass) -> Table:
    queries = klass is RequestClass.QUERIES
    columns = [*CLASS_COLUMNS, *(STALENESS_COLUMNS if queries else ()), FAILURES_COLUMN]
    rows = []
    for row in report.classes[klass]:
        cells = [
            str(row.index),
            marked(report, row.index, row.step),
            _opt(row.offered_rate, num),
            _opt(row.achieved_rate, num),
            *_latency(row.corrected_ms),
            _opt(percentile(row.raw_ms, "p99"), millis),
            num(row.late_sends),
        ]
        if queries:
            cells += [
                _opt(row.stale_rate, share),
                _opt(percentile(row.stale_age_ms, "p99"), millis),
                _opt(percentile(row.journal_lag_events, "p99"), num),
                num(row.inconsistent_reads),
                num(row.moved_reads),
            ]
        rows.append((*cells, _failures(row)))
    title = f"{_name(klass).capitalize()} (latency corrected unless raw)"
    return Table(title, tuple(columns), tuple(rows))


def _latency(percentiles: Percentiles | None) -> tuple[str, str, str]:
    if percentiles is None:
        return NONE, NONE, NONE
    return millis(percentiles.p50), millis(percentiles.p99), millis(percentiles.p99_9)


def _failures(row: StepSummary) -> str:
    kinds = [
        f"{OUTCOME_LABELS[outcome]} {share(count / row.requests)}"
        for outcome, count in row.outcomes.items()
        if outcome is not Outcome.SUCCESS and count
    ]
    return " · ".join(kinds) or NONE


def feed_table(report: Report) -> Table:
    rows = tuple(
        (
            str(row.index),
            marked(report, row.index, row.step),
            num(row.feed_events),
            num(row.liquidations),
            _opt(row.completeness, share),
            _opt(percentile(row.feed_lag_ms, "p50"), millis),
            _opt(percentile(row.feed_lag_ms, "p99"), millis),
            num(row.negative_feed_lags),
        )
        for row in report.feed
        if row is not None
    )
    return Table("Liquidation feed (all symbols)", FEED_COLUMNS, rows)


def depth_note() -> Text:
    return Text(
        "Each load-generating process keeps a local book per symbol from the diff depth "
        "stream, as a bot does: a REST snapshot, then the stream's updates, rebuilt from a new "
        "snapshot when an update goes missing (a gap). Each REST depth read is compared with "
        "the local book's best bid and ask as it arrives: how often a bot's streamed view of "
        "the touch differed from the venue's, and by how many ticks."
    )


def depth_table(report: Report) -> Table:
    rows = tuple(
        (
            str(row.index),
            marked(report, row.index, row.step),
            num(row.feed_events),
            _opt(percentile(row.feed_lag_ms, "p50"), millis),
            _opt(percentile(row.feed_lag_ms, "p99"), millis),
            num(row.depth_gaps),
            num(row.depth_resyncs),
            _opt(row.top_different / row.top_samples if row.top_samples else None, share),
            _opt(percentile(row.top_off_ticks, "p99"), num),
        )
        for row in report.depth
        if row is not None
    )
    return Table("Depth stream (all symbols and processes)", DEPTH_COLUMNS, rows)


def rate_limit_table(report: Report) -> Table:
    limits = report.rate_limits.limits
    names = list(report.rate_limit_usage)
    columns = (
        "#",
        "step",
        *(f"{LIMIT_NAMES.get(name, name)} (of {limits[name]:,})" for name in names),
        "refused (429 + 418)",
    )
    refused = report.metrics["rate_limited_rate"]
    rows = tuple(
        (
            str(step.index),
            marked(report, step.index, step.name),
            *(_opt(report.rate_limit_usage[name][step.index], share) for name in names),
            _opt(refused[step.index], share),
        )
        for step in report.steps
    )
    source = "published by the target" if report.rate_limits.published else "Binance's, assumed"
    return Table(f"Peak rate-limit usage (limits {source})", columns, rows)


def _run_section(report: Report) -> Section:
    settings = run_settings(report)
    blocks: list[Block] = [
        Table("What shaped the run", ("", "value"), settings.shaping),
        Folded(
            f"Every other setting ({len(settings.rest)})",
            (Table("Other settings", ("", "value"), settings.rest),),
        ),
    ]
    if report.audit is not None:
        blocks.append(Bullets(audit_lines(report.audit)))
    return Section("Run", tuple(blocks))


def _name(klass: RequestClass) -> str:
    return klass.value.replace("_", " ")


def _opt(value: float | None, fmt: Callable[[float], str]) -> str:
    return NONE if value is None else fmt(value)
