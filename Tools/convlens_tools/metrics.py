"""The error measures every Tools/ script reports, defined once, as BackendParity/Tolerances.swift uses them."""
import numpy as np


def rel_l2(a, b) -> float:
    """||a − b|| / ||b|| in float64 over all elements (||a − b|| itself when b is all zeros)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    denominator = np.linalg.norm(b)
    difference = np.linalg.norm(a - b)
    return float(difference / denominator) if denominator > 0 else float(difference)


def max_abs(a, b) -> float:
    """The largest |a − b| in float64."""
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
