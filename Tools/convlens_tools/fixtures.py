"""Writing fixtures: arrays as .npy and metadata as JSON, in one layout for every script.

Arrays are little-endian float32 in C order, the layout the Swift tests' NPY reader expects, whatever dtype a
script computed in. Text is UTF-8 with "\\n" line ends on every platform, so a rerun with the same package versions
gives byte-identical files and `git diff` shows only real changes. Needs only numpy (maco_spectrum.py does not
import torch).
"""
import json
from pathlib import Path

import numpy as np


def save_npy(path, array) -> np.ndarray:
    """Writes `array` as little-endian float32, C order; returns the array as written."""
    array = np.ascontiguousarray(array, dtype="<f4")
    with open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)
    return array


def write_text(path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_json(path, content) -> None:
    """`content` as JSON indented by 2, with a final newline."""
    write_text(path, json.dumps(content, indent=2) + "\n")


class FixtureFolder:
    """One fixture's folder: each array saved into it is recorded in ``files`` (file name -> shape and, when given,
    description), the manifest a script may put into its fixture.json."""

    def __init__(self, path, remove_old_arrays: bool = False) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        if remove_old_arrays:
            # An array the script no longer makes must not linger beside the new ones.
            for old in self.path.glob("*.npy"):
                old.unlink()
        self.files: dict = {}

    def save(self, name: str, array, description: str | None = None) -> None:
        """Saves `array` as ``<name>.npy`` (see save_npy) and records it."""
        array = save_npy(self.path / f"{name}.npy", array)
        entry = {"shape": list(array.shape)}
        if description is not None:
            entry["description"] = description
        self.files[f"{name}.npy"] = entry

    def write_json(self, name: str, content) -> None:
        write_json(self.path / name, content)
