"""The benchmark report: pytest-benchmark's JSON as a Markdown table.

One row per benchmark, grouped by workload: the median time of a round; where
the benchmark says how many epochs a round runs and how many floating-point
operations an epoch's products take (``extra_info``), the median time per
epoch, the GFLOP/s and their fraction of NumPy's own two products of an
epoch (X W1 and X^T D, the ``matmul`` group) in the same dtype (timed beside
the benchmark's own rounds where the suite did so, else the ``matmul`` group
of the same run); the speedup over the
reference of the same group; and how many times faster fastnn was than the
row (over the reference and over each peer, PyTorch and JAX).
"""


def machine():
    """What the compiled code and the products run on: LLVM's name for the CPU, and NumPy's BLAS with its kernels.

    OpenBLAS picks its kernels by the CPU when NumPy loads it, unless
    OPENBLAS_CORETYPE names them: with its AVX2 ("Haswell") kernels on an
    AVX-512 CPU the row path's products, NumPy's and the reference's run at
    half the vector width the CPU has, while the kernels compiled by Numba
    and JAX's do not (docs/design.md).
    """
    import os

    import llvmlite.binding as llvm
    from threadpoolctl import threadpool_info

    from fastnn._threads import numpy_blas, numpy_build  # numpy_build loads NumPy, and its BLAS

    kernels = blas_name(numpy_blas(threadpool_info(), numpy_build()))
    if os.environ.get("OPENBLAS_CORETYPE"):
        kernels += f" (OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']})"
    return {"llvm": llvm.get_host_cpu_name(), "blas": kernels}


def blas_name(blas):
    """A BLAS of threadpoolctl's (fastnn._threads.numpy_blas) as "openblas 0.3.31, SkylakeX kernels"."""
    if not blas:
        return "unknown BLAS"
    text = " ".join(str(blas[key]) for key in ("internal_api", "version") if blas.get(key))
    return text + (f", {blas['architecture']} kernels" if blas.get("architecture") else "")


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
        f"{cpu.get('count', '?')} cores{', LLVM ' + machine['llvm'] if 'llvm' in machine else ''}; "
        f"Python {machine.get('python_version', '?')}{'; BLAS ' + machine['blas'] if 'blas' in machine else ''}. "
        "Medians of each benchmark's rounds.",
        "",
        "| workload | implementation | median per round | per epoch | GFLOP/s | of matmul | speedup over reference | fastnn faster by |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    groups = {}
    for bench in data.get("benchmarks", []):
        groups.setdefault(bench.get("group") or "", []).append(bench)
    matmul = {
        b["extra_info"]["dtype"]: b["extra_info"]["flops"] / b["stats"]["median"] / 1e9
        for b in groups.get("matmul", [])
        if "flops" in b.get("extra_info", {})
    }
    for group, benches in groups.items():
        reference = [b for b in benches if b.get("extra_info", {}).get("impl") == "reference"]
        ref_median = reference[0]["stats"]["median"] if reference else None
        ours = [b for b in benches if b.get("extra_info", {}).get("impl") == "fastnn" and "cache" not in b["extra_info"]]
        our_median = ours[0]["stats"]["median"] if ours else None
        for bench in benches:
            info, median = bench.get("extra_info", {}), bench["stats"]["median"]
            epochs = info.get("epochs")
            per_epoch = median / epochs if epochs else None
            flops = info.get("flops_per_epoch") if per_epoch else info.get("flops")
            gflops = flops / (per_epoch or median) / 1e9 if flops else None
            # The product timed beside this benchmark's own rounds where there is one, else the run's matmul group.
            reference_gflops = info.get("matmul_gflops") or matmul.get(info.get("dtype"))
            of_matmul = f"{gflops / reference_gflops:.0%}" if gflops and group != "matmul" and reference_gflops else ""
            lines.append(
                f"| {group} | {_label(bench)} | {_seconds(median)} | {_seconds(per_epoch) if per_epoch else ''} | "
                f"{f'{gflops:.1f}' if gflops else ''} | {of_matmul} | {f'{ref_median / median:.1f}x' if ref_median else ''} | "
                f"{f'{median / our_median:.1f}x' if our_median else ''} |"
            )
    return "\n".join(lines)


def chart(data, path):
    """A PNG bar chart of each workload's speedup over the reference, one bar per implementation (log scale).

    Needs matplotlib (``pip install -e ".[chart]"``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {}
    for bench in data.get("benchmarks", []):
        info = bench.get("extra_info", {})
        if "epochs" in info and "cache" not in info:
            groups.setdefault(bench.get("group") or "", {})[info.get("impl", bench["name"])] = bench["stats"]["median"]
    workloads = [g for g, medians in groups.items() if "reference" in medians]
    impls = [i for i in ("fastnn", "pytorch", "jax") if any(i in groups[g] for g in workloads)]
    fig, ax = plt.subplots(figsize=(1.6 + 1.4 * len(workloads), 3.6))
    width = 0.8 / max(1, len(impls))
    for k, impl in enumerate(impls):
        xs = [i + (k - (len(impls) - 1) / 2) * width for i, g in enumerate(workloads) if impl in groups[g]]
        ys = [groups[g]["reference"] / groups[g][impl] for g in workloads if impl in groups[g]]
        bars = ax.bar(xs, ys, width, label=impl)
        ax.bar_label(bars, labels=[f"{y:.3g}x" for y in ys], fontsize=7)
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(workloads)), workloads)
    ax.set_ylabel("speedup over the NumPy reference")
    machine = data.get("machine_info", {}).get("cpu", {}).get("brand_raw", "")
    ax.set_title(f"fastnn benchmarks, medians{', ' + machine if machine else ''}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
