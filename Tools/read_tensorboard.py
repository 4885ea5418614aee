#!/usr/bin/env python3
"""Reads a log folder that `convlens … --tensorboard DIR` wrote with TensorBoard's own EventAccumulator and prints what
it found: every scalar tag with its number of steps, first and last step and value, and every image tag with its
steps and the last image's size. It fails when TensorBoard finds nothing, so it checks the writer end to end.

Usage, from the repository root, with the venv of the README (needs ``tensorboard`` from PyPI)::

    ~/convlens-venv/bin/python Tools/read_tensorboard.py DIR

Never run by the build or the tests.
"""

import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    # size_guidance 0: keep every event, not TensorBoard's default reservoir sample.
    accumulator = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0, "images": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    for tag in tags["scalars"]:
        events = accumulator.Scalars(tag)
        print(f"scalar {tag}: {len(events)} steps, {events[0].step}: {events[0].value:.4g} … "
              f"{events[-1].step}: {events[-1].value:.4g}")
    for tag in tags["images"]:
        events = accumulator.Images(tag)
        print(f"image {tag}: steps {[event.step for event in events]}, last {events[-1].width}×{events[-1].height} "
              f"({len(events[-1].encoded_image_string)} bytes of PNG)")
    if not tags["scalars"] and not tags["images"]:
        print("TensorBoard found no scalars and no images", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
