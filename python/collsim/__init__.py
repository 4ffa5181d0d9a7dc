"""collsim from Python: simulate a collective or a training step.

    import collsim
    rows = collsim.run_collective("topologies/hgx-h100.yaml", sizes=[1 << 30])
    step = collsim.run_step("topologies/gb200-nvl72-8rack.yaml", "workloads/llama3-70b.yaml",
                            overrides=["cluster.nodes=4"], backend="analytical")

Files and overrides are those of the command line (docs/topology-format.md,
docs/workload-format.md); overrides are `--set` assignments, workload
overrides `--set-workload` ones. Sizes are bytes per rank as nccl-tests
prints them; times are seconds unless a key says _us; GB/s are 1e9 bytes/s.
Bad input raises ValueError, a failed simulation RuntimeError.
"""

import json as _json
import numbers as _numbers

from . import _collsim

__all__ = ["version", "run_collective", "run_step"]


def _assignments(name, value):
    """`--set`-style assignments as a list: one string is one assignment
    (iterating it would give its characters)."""
    if isinstance(value, (str, bytes)):
        return [value.decode() if isinstance(value, bytes) else value]
    try:
        return list(value)
    except TypeError:
        raise ValueError(f"{name}: expected a list of KEY=VALUE strings, found {value!r}") from None


def version():
    """The version `collsim --version` prints."""
    return _collsim.version()


def run_collective(topology, op="allreduce", sizes=(32 << 20,), algo="auto", proto="auto",
                   datatype="float", redop="sum", ranks=0, root=0, backend="simgrid", overrides=(), placement="all", nccl=None):
    """One collective over `sizes`, as `collsim collective` runs it.

    Returns one dict per size: op, algo, proto, bytes, count, type, redop,
    root (-1 but for broadcast and reduce), ranks, time_us, algbw_GBps, busbw_GBps, aggregated, not_simulated
    (the command line JSON's `skipped`), contended, buffer_bound, nccl_model_us, and
    busiest: what binds, a list of {resource, where, share} (the table's
    `# busiest`), and busiest_skipped: True where the schedule was too large
    to read (an all-to-all over about 300 GPUs). `overrides` is a list of
    `--set` assignments (one string is one assignment).
    `ranks` 0 means every GPU of the topology. `placement` chooses the GPUs
    as `--placement` does ("per-domain:64", "spread:8", "gpus:0-7"...).
    `nccl` is the NCCL release to model, as `--nccl` ("2.27", "2.29.2");
    None models collsim's default release.
    """
    overrides = _assignments("overrides", overrides)
    if isinstance(sizes, (str, bytes)):  # one string, not its characters
        raise ValueError(f"sizes: expected numbers of bytes (such as 1 << 20), found {sizes!r}")
    if isinstance(sizes, _numbers.Real) and not isinstance(sizes, bool):
        sizes = (sizes,)
    sizes = list(sizes)
    if not sizes:
        raise ValueError("sizes: expected at least one size in bytes, found none")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, _numbers.Real):
            raise ValueError(f"sizes: expected numbers of bytes (such as 1 << 20), found {s!r}")
    rows = _collsim.run_collective(str(topology), op, [float(s) for s in sizes], algo, proto, datatype, redop,
                                   int(ranks), int(root), backend, [str(o) for o in overrides], str(placement),
                                   "" if nccl is None else str(nccl))
    for row in rows:  # whole bytes, as the command line's JSON has them
        row["bytes"] = int(row["bytes"])
    return rows


def run_step(topology, workload, overrides=(), workload_overrides=(), backend="simgrid", what_if=False,
             memory_check=True, placement="all"):
    """One training step, as `collsim run` simulates it.

    Returns a dict: step_time_s, compute_s, bubble_s, exposed_communication_s,
    tokens_per_s, mfu, peak_memory_bytes, hbm_capacity_bytes, gpus, and
    `report`: the whole report as `collsim run --json` writes it.
    """
    overrides = _assignments("overrides", overrides)
    workload_overrides = _assignments("workload_overrides", workload_overrides)
    result = _collsim.run_step(str(topology), str(workload), [str(o) for o in overrides],
                               [str(o) for o in workload_overrides], backend, bool(what_if), bool(memory_check),
                               str(placement))
    result["report"] = _json.loads(result.pop("json"))
    return result
