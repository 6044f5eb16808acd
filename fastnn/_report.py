"""The benchmark report: pytest-benchmark's JSON as a Markdown table.

One row per benchmark, grouped by workload: the median time of a round, the
median time per epoch where the benchmark says how many epochs a round runs
(``extra_info["epochs"]``), and the speedup over the reference of the same
group, timed in the same run.
"""


def _seconds(value):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _label(bench):
    info = bench.get("extra_info", {})
    label = info.get("impl", bench["name"])
    return f"{label} ({info['cache']})" if "cache" in info else label


def markdown(data):
    """The table, with the machine it ran on, from the parsed JSON of ``--benchmark-json``."""
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {})
    lines = [
        f"Machine: {cpu.get('brand_raw', machine.get('processor', 'unknown CPU'))}, "
        f"{cpu.get('count', '?')} cores; Python {machine.get('python_version', '?')}. Medians of each benchmark's rounds.",
        "",
        "| workload | implementation | median per round | per epoch | speedup over reference |",
        "|---|---|---:|---:|---:|",
    ]
    groups = {}
    for bench in data.get("benchmarks", []):
        groups.setdefault(bench.get("group") or "", []).append(bench)
    for group, benches in groups.items():
        reference = [b for b in benches if b.get("extra_info", {}).get("impl") == "reference"]
        ref_median = reference[0]["stats"]["median"] if reference else None
        for bench in benches:
            median = bench["stats"]["median"]
            epochs = bench.get("extra_info", {}).get("epochs")
            per_epoch = _seconds(median / epochs) if epochs else ""
            speedup = f"{ref_median / median:.1f}x" if ref_median else ""
            lines.append(f"| {group} | {_label(bench)} | {_seconds(median)} | {per_epoch} | {speedup} |")
    return "\n".join(lines)
