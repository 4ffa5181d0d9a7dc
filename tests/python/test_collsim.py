"""The Python module (python/collsim) against the same oracles as the C++ tests.

Run by ctest (tests/CMakeLists.txt) with PYTHONPATH=build/python from the
source directory: python3 -m pytest tests/python
"""

import math
import os
import subprocess
import sys
import json

import pytest

import collsim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def path(p):
    return os.path.join(ROOT, p)


def test_version_is_the_command_lines():
    out = subprocess.run([os.environ.get("COLLSIM_BINARY", path("build/collsim")), "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert collsim.version() in out


def test_ring_allreduce_on_8_h100_reaches_the_published_busbw():
    # NVIDIA's ~370 GB/s ring all-reduce busbw on 8 H100 (the NVLink4
    # calibration, docs/validation.md), at 8 GiB with the Simple protocol.
    rows = collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes=[8 << 30], algo="ring",
                                  proto="Simple")
    assert len(rows) == 1
    r = rows[0]
    assert (r["op"], r["algo"], r["proto"], r["ranks"], r["type"]) == ("allreduce", "ring", "Simple", 8, "float")
    assert r["root"] == -1  # nccl-tests' column: a root only for broadcast and reduce
    assert collsim.run_collective(path("topologies/hgx-h100.yaml"), op="broadcast", root=3,
                                  backend="analytical")[0]["root"] == 3
    assert r["count"] == (8 << 30) // 4
    assert r["busbw_GBps"] == pytest.approx(370, rel=0.02)
    # nccl-tests' definitions: algbw = size / time, busbw = algbw x 2(p-1)/p.
    assert r["algbw_GBps"] == pytest.approx(r["bytes"] / (r["time_us"] * 1e3), rel=1e-9)
    assert r["busbw_GBps"] == pytest.approx(r["algbw_GBps"] * 2 * 7 / 8, rel=1e-9)


def test_closed_form_ring_without_protocol_costs():
    # proto none: the links alone; ring all-reduce on p GPUs through one
    # switch moves 2(p-1)/p x n per GPU at the link's effective rate, plus
    # 2(p-1) hops of latency: 450 GB/s x 0.822 per GPU, 2 x 250 ns per hop.
    n, p = float(1 << 30), 8
    rate, hop = 450e9 * 0.822, 2 * 250e-9
    expected_s = 2 * (p - 1) / p * n / rate + 2 * (p - 1) * hop
    for backend in ("analytical", "simgrid"):
        r = collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes=[n], algo="ring", proto="none",
                                   backend=backend)[0]
        assert r["time_us"] * 1e-6 == pytest.approx(expected_s, rel=1e-3), backend


def test_same_numbers_as_the_command_line(tmp_path):
    out = tmp_path / "rows.json"
    subprocess.run([os.environ.get("COLLSIM_BINARY", path("build/collsim")), "collective", "-t",
                    path("topologies/h100-ib400-4node.yaml"), "--op", "alltoall", "-b", "1M", "-e", "16M", "-f", "4",
                    "--backend", "analytical", "--json", str(out)], check=True, capture_output=True)
    cli = json.loads(out.read_text())["results"]
    api = collsim.run_collective(path("topologies/h100-ib400-4node.yaml"), op="alltoall",
                                 sizes=[1 << 20, 4 << 20, 16 << 20], backend="analytical")
    assert [r["bytes"] for r in api] == [r["bytes"] for r in cli]
    assert all(isinstance(r["bytes"], int) for r in api)  # was a float
    for a, c in zip(api, cli):
        assert a["time_us"] == pytest.approx(c["time_us"], rel=1e-9)
        assert [(b["resource"], b["where"]) for b in a["busiest"]] == [(b["resource"], b["where"]) for b in c["busiest"]]
        assert [b["share"] for b in a["busiest"]] == pytest.approx([b["share"] for b in c["busiest"]], rel=1e-9)
    assert api[-1]["busiest"], "what binds is named"
    assert not any(r["busiest_skipped"] for r in api)


def test_rows_carry_the_command_lines_flags(tmp_path):
    # contended, buffer_bound and nccl_model_us, missing until 2026-12-06: an
    # `auto` all-reduce across 4 H100 nodes, where NCCL's model names a time.
    out = tmp_path / "rows.json"
    subprocess.run([os.environ.get("COLLSIM_BINARY", path("build/collsim")), "collective", "-t",
                    path("topologies/h100-ib400-4node.yaml"), "-b", "1M", "-e", "1G", "-f", "32", "--backend",
                    "analytical", "--json", str(out)], check=True, capture_output=True)
    cli = json.loads(out.read_text())["results"]
    api = collsim.run_collective(path("topologies/h100-ib400-4node.yaml"), sizes=[1 << 20, 32 << 20, 1 << 30],
                                 backend="analytical")
    assert all(r["nccl_model_us"] > 0 for r in api)
    for key in ("contended", "buffer_bound", "nccl_model_us"):
        assert [r[key] for r in api] == [r[key] for r in cli], key


def test_placement_matches_the_command_line(tmp_path):
    # 64 of each NVL72 rack's 72 GPUs: the same rows as `--placement per-domain:64`.
    out = tmp_path / "rows.json"
    subprocess.run([os.environ.get("COLLSIM_BINARY", path("build/collsim")), "collective", "-t",
                    path("topologies/gb200-nvl72-8rack.yaml"), "--placement", "per-domain:64", "-b", "64M", "-e",
                    "64M", "--backend", "analytical", "--json", str(out)], check=True, capture_output=True)
    cli = json.loads(out.read_text())
    api = collsim.run_collective(path("topologies/gb200-nvl72-8rack.yaml"), sizes=[64 << 20], backend="analytical",
                                 placement="per-domain:64")
    assert cli["placement"].startswith("per-domain:64 (512 of 576 GPUs")
    assert api[0]["ranks"] == 512
    assert api[0]["time_us"] == pytest.approx(cli["results"][0]["time_us"], rel=1e-9)
    with pytest.raises(ValueError, match="per-domain:K needs K"):
        collsim.run_collective(path("topologies/gb200-nvl72-8rack.yaml"), placement="per-domain:80")


def test_nccl_release_matches_the_command_line(tmp_path):
    # B200 tree all-reduce on 4 nodes: NCCL 2.28.3 on holds a tree channel to
    # 24.0 GB/s of busbw on 3+ nodes, 2.25.1-2.27.7 to 2 x 36.0
    # (src/graph/tuning.cc perChMaxTreeBw); 8 channels here.
    topo = path("tests/validation/topologies/b200-ib400-4node.yaml")
    busbw = {}
    for release in ("2.27.7", "2.29.2"):
        out = tmp_path / f"{release}.json"
        subprocess.run([os.environ.get("COLLSIM_BINARY", path("build/collsim")), "collective", "-t", topo, "--algo",
                        "tree", "-b", "1G", "-e", "1G", "--nccl", release, "--backend", "analytical", "--json",
                        str(out)], check=True, capture_output=True)
        cli = json.loads(out.read_text())["results"][0]
        api = collsim.run_collective(topo, sizes=[1 << 30], algo="tree", backend="analytical", nccl=release)[0]
        assert api["time_us"] == pytest.approx(cli["time_us"], rel=1e-9), release
        busbw[release] = api["busbw_GBps"]
    assert busbw["2.29.2"] <= 8 * 24.0
    assert busbw["2.27.7"] > 8 * 24.0
    with pytest.raises(ValueError, match="nccl: "):
        collsim.run_collective(topo, nccl="2.x")


def test_bad_input_raises_value_error_naming_file_line_column():
    with pytest.raises(ValueError, match=r"negative_rate\.yaml:7:31: field 'links\[0\]\.rate'"):
        collsim.run_collective(path("tests/data/bad/negative_rate.yaml"))
    with pytest.raises(ValueError, match="op: unknown collective 'allreduse'"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), op="allreduse")
    with pytest.raises(ValueError, match="ranks"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), ranks=9)
    with pytest.raises(ValueError, match="unknown key"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), overrides=["nccl.pxx=1"])
    # Was: "could not convert string to float: '1M'", naming no argument.
    with pytest.raises(ValueError, match=r"sizes: expected numbers of bytes .* found '1M'"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes=["1M"])
    # An empty list ran the default 32 MiB; one string of overrides was read
    # character by character ("--set n: expected key.path=value").
    with pytest.raises(ValueError, match="sizes: expected at least one size"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes=[])
    one = collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes=1 << 20, backend="analytical",
                                 overrides="nccl.pxn=false")
    assert one[0]["bytes"] == 1 << 20
    with pytest.raises(ValueError, match=r"sizes: expected numbers of bytes .* found '1M'"):
        collsim.run_collective(path("topologies/hgx-h100.yaml"), sizes="1M")


def test_step_time_is_compute_plus_bubble_plus_exposed_communication():
    # Conservation: per worker, compute + exposed communication + bubble =
    # step time (sim/workload/step_sim.h), and the report says the same.
    s = collsim.run_step(path("topologies/h100-ib400-4node.yaml"), path("tests/data/workloads/small-4node.yaml"),
                         backend="analytical")
    assert s["gpus"] == 32
    assert s["step_time_s"] > 0
    assert s["compute_s"] + s["bubble_s"] + s["exposed_communication_s"] == pytest.approx(s["step_time_s"],
                                                                                          rel=1e-9)
    assert s["report"]["step_time_s"] == pytest.approx(s["step_time_s"], rel=1e-12)
    assert 0 < s["peak_memory_bytes"] <= s["hbm_capacity_bytes"]
    assert 0 < s["mfu"] < 1 and not math.isnan(s["mfu"])


def test_the_example_study_runs():
    # examples/pxn_oversubscription.py: with PXN the all-to-all keeps the
    # NICs' rate whatever the spine; without it, 7:1 costs more than 3:1.
    out = subprocess.run([sys.executable,
                          path("examples/pxn_oversubscription.py"), "--nodes", "8"],
                         capture_output=True, text=True, check=True, env=dict(os.environ)).stdout
    rows = [line.split() for line in out.splitlines() if line.strip().endswith(tuple("0123456789"))
            and not line.startswith("#")]
    assert [r[0] for r in rows] == ["1:1", "3:1", "7:1"]
    on = [float(r[1]) for r in rows]
    off = [float(r[2]) for r in rows]
    assert max(on) == pytest.approx(min(on), rel=1e-3)
    assert off[0] == pytest.approx(on[0], rel=1e-3) and off[2] < off[1] < off[0]
