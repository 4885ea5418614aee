#!/usr/bin/env python3
"""Times `convlens bench --suite ops` under several configurations taking turns, in one sitting, and prints a
markdown table of the convolution layers: per configuration the median of the rounds' medians, with the min and max
of all runs, and the algorithm the planner chose.

Each configuration is NAME=BINARY[,VAR=VALUE...], e.g.

    Tools/bench_conv_sitting.py --rounds 3 \\
        before=/tmp/base/.build/release/convlens \\
        default=.build/release/convlens,CONVLENS_TUNING=off \\
        tuned=.build/release/convlens

Run it on a quiet machine (no build, test or other benchmark beside it). Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def parse_config(text: str) -> tuple[str, str, dict[str, str]]:
    name, _, rest = text.partition("=")
    binary, *assignments = rest.split(",")
    if not name or not binary:
        sys.exit(f"bench_conv_sitting: configuration '{text}' is not NAME=BINARY[,VAR=VALUE...]")
    return name, binary, dict(a.split("=", 1) for a in assignments)


def run_once(binary: str, env: dict[str, str], runs: int, warmup: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.json")
        subprocess.run([binary, "bench", "--suite", "ops", "--runs", str(runs), "--warmup", str(warmup),
                        "--json", path], env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        with open(path) as file:
            return json.load(file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="+", help="NAME=BINARY[,VAR=VALUE...]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()
    configs = [parse_config(text) for text in args.configs]

    # (config, workload, direction, batch) -> list of per-round records
    rounds: dict[tuple, list[dict]] = {}
    order: list[tuple] = []
    for round_index in range(args.rounds):
        for name, binary, env in configs:
            print(f"round {round_index + 1}: {name}", file=sys.stderr)
            for record in run_once(binary, env, args.runs, args.warmup):
                if record["workload"].startswith("peak."):
                    continue
                key = (record["workload"], record["direction"], record["batch"])
                if key not in order:
                    order.append(key)
                rounds.setdefault((name,) + key, []).append(record)

    names = [name for name, _, _ in configs]
    header = ["layer", "direction", "batch"] + [f"{name} ms" for name in names] + [
        f"{name} / {names[0]}" for name in names[1:]]
    print("| " + " | ".join(header) + " |")
    print("| " + " | ".join(["---", "---", "---:"] + ["---:"] * (len(header) - 3)) + " |")
    for key in order:
        cells, medians = [], []
        for name in names:
            records = rounds.get((name,) + key, [])
            if not records:
                cells.append("–")
                medians.append(None)
                continue
            median = statistics.median(r["median_ms"] for r in records)
            low, high = min(r["min_ms"] for r in records), max(r["max_ms"] for r in records)
            algorithm = records[-1].get("algorithm")
            cells.append(f"{median:.3g} [{low:.3g}–{high:.3g}]" + (f" {algorithm}" if algorithm else ""))
            medians.append(median)
        ratios = [f"{m / medians[0]:.2f}" if m and medians[0] else "–" for m in medians[1:]]
        print("| " + " | ".join([key[0], key[1], str(key[2])] + cells + ratios) + " |")


if __name__ == "__main__":
    main()
