"""Reproducible PyTorch runs: the fixture scripts promise byte-identical output on a rerun with the same packages."""
import random

import numpy as np
import torch


def make_deterministic(threads: int, seed: int | None = None) -> None:
    """Fixed intra-op thread count (a different split can change a sum's order) and torch's deterministic
    algorithms; with `seed`, also seeds Python's, numpy's and torch's global generators."""
    if seed is not None:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
