"""The results as a readable table (Markdown, also printed) beside the machine and dataset they came from."""

ROW = "| {name} | {median} | {p95} | {runs} | {queries} | {raw} | {ratio} | {target} | {status} |"
HEADER = ROW.format(
    name="scenario",
    median="median",
    p95="p95",
    runs="runs",
    queries="queries",
    raw="raw SQL (median)",
    ratio="ours / raw",
    target="target",
    status="result",
)
RULE = "|---|--:|--:|--:|--:|--:|--:|---|---|"


def _value(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.2f} s"
    return f"{value:,.1f} {unit}"


def _dataset_line(dataset: dict) -> str:
    rows = dataset.get("rows", {})
    counts = ", ".join(f"{n:,} {table.removeprefix('crm_')}" for table, n in rows.items())
    return (
        f"{dataset['leads']:,} leads, {dataset['reps']} reps in {dataset['teams']} teams ({counts}); "
        f"generated in {dataset['total_seconds']} s on {dataset['built_at']} "
        f"(rows {dataset['load_seconds']} s, first cadence run {dataset['cadence_first_run_seconds']} s, "
        f"VACUUM ANALYZE {dataset['vacuum_analyze_seconds']} s)"
    )


def markdown(report: dict) -> str:
    """Return the whole report as Markdown: machine, then one table per dataset, then the notes."""
    machine = report["machine"]
    lines = [
        f"# Benchmarks {report['date']}",
        "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"PostgreSQL {machine['postgresql']}, Python {machine['python']}, Django {machine['django']}",
        f"- Commit: {machine['commit']}; harness: `{report['command']}`",
    ]
    notes = []
    for suite in report["suites"]:
        lines += ["", f"## {suite['title']}", ""]
        if "error" in suite:
            lines.append(f"ERROR: {suite['error']}")
            continue
        lines += [f"Dataset: {_dataset_line(suite['dataset'])}.", ""]
        lines += [f"Rep persona: {suite['personas']['rep']} ({suite['personas']['rep_open_leads']} open leads).", ""]
        lines += [HEADER, RULE]
        for figure in suite["figures"]:
            unit = figure["unit"]
            lines.append(
                ROW.format(
                    name=figure["name"],
                    median=_value(figure["median"], unit),
                    p95=_value(figure["p95"], unit),
                    runs=figure["runs"] or "—",
                    queries="—" if figure["queries"] is None else figure["queries"],
                    raw=_value(figure["raw_median"], unit),
                    ratio="—" if figure["ratio"] is None else f"{figure['ratio']:.2f}×",
                    target=figure["target"] or "—",
                    status=figure["status"] or "—",
                )
            )
            if figure["note"]:
                notes.append(f"- {figure['name']}: {figure['note']}")
    if notes:
        lines += ["", "## Notes", "", *notes]
    return "\n".join(lines) + "\n"
