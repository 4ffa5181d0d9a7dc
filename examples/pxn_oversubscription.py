#!/usr/bin/env python3
"""What does a thinner spine cost an all-to-all, with and without PXN?

A study driven from Python (python/collsim): 16 HGX H100 nodes on a
rail-optimized fabric, the leaves' up-links thinned from 1:1 to 7:1, the
all-to-all of expert parallelism (256 MiB per GPU) with NCCL's PXN on (its
default) and off. With PXN the traffic stays on its rail and never needs the
spine; without it, traffic to another rail crosses the spine and slows down
with it.

    PYTHONPATH=build/python python3 examples/pxn_oversubscription.py [--backend simgrid]
"""

import argparse
import os
import sys

import collsim

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="analytical", choices=["analytical", "simgrid"])
    parser.add_argument("--nodes", type=int, default=16)
    args = parser.parse_args()
    topology = os.path.join(ROOT, "topologies", "h100-ib400-128node.yaml")
    print(f"# all-to-all, 256 MiB per GPU, {args.nodes} x 8 H100, rail-optimized, backend {args.backend}")
    print(f"# {'oversubscription':>16}  {'busbw, PXN on':>14}  {'PXN off':>8}  (GB/s)")
    for oversubscription in (1, 3, 7):
        busbw = {}
        for pxn in ("true", "false"):
            overrides = [f"cluster.nodes={args.nodes}", f"cluster.fabric.oversubscription={oversubscription}",
                         f"nccl.pxn={pxn}"]
            row = collsim.run_collective(topology, op="alltoall", sizes=[256 << 20], backend=args.backend,
                                         overrides=overrides)[0]
            busbw[pxn] = row["busbw_GBps"]
        print(f"  {oversubscription:>14}:1  {busbw['true']:>14.2f}  {busbw['false']:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
