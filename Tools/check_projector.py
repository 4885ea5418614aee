#!/usr/bin/env python3
"""Loads a Projector export (what `convlens embed --projector DIR` writes) with TensorBoard's own projector plugin
and checks that the Embeddings tab would show it: the plugin is built as `tensorboard --logdir DIR` builds it (an
event multiplexer and its data provider) and every request goes through the plugin's HTTP routes with werkzeug's
test client, so the files are read by the plugin's own config, tensor, metadata and sprite code.

It prints the runs, each embedding's name and shape, the shape of the tensor the plugin served, the metadata's
rows and columns and the sprite's size, and exits non-zero with one clear line when anything is missing or
inconsistent. Checks the plugin leaves to the browser are made as the front end (projector_binary.js) makes them:

- the tensor served holds exactly rows × columns float32 values;
- the metadata has one row per point after the front end skips blank lines, a header row exactly when it has
  tabs, and as many values in each row as the header has columns;
- the sprite is at most 8192 px a side, a whole number of cells, and a square grid (the front end takes a point's
  row from its index divided by the cells per column) with a cell for every point.

Usage, from the repository root, with the venv of the README (needs ``tensorboard``, ``numpy``, ``pillow``)::

    ~/convlens-venv/bin/python Tools/check_projector.py DIR

Reads local files only, no network access. Never run by the build or the tests.
"""

import io
import json
import os
import sys

import numpy as np
from google.protobuf import text_format
from PIL import Image
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.projector import projector_plugin
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from werkzeug.test import Client
from werkzeug.wrappers import Response

# The front end refuses a larger sprite ("exceeds maximum dimensions 8192px x 8192px").
MAX_SPRITE_SIDE = 8192


class CheckFailed(Exception):
    """One line saying what is missing or inconsistent."""


def load_plugin(logdir):
    """The projector plugin over `logdir`, with the data provider `tensorboard --logdir` gives it."""
    multiplexer = plugin_event_multiplexer.EventMultiplexer()
    multiplexer.AddRunsFromDirectory(logdir)
    multiplexer.Reload()
    provider = data_provider.MultiplexerDataProvider(multiplexer, logdir)
    context = base_plugin.TBContext(logdir=logdir, data_provider=provider, multiplexer=multiplexer)
    return projector_plugin.ProjectorPlugin(context)


def requester(plugin):
    """A function that GETs one of the plugin's routes and returns the body, failing on anything but 200."""
    apps = plugin.get_plugin_apps()

    def get(route, **query):
        where = route + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")
        try:
            response = Client(apps[route], Response).get(route, query_string=query)
        except Exception as error:  # the plugin raises, rather than answers, for some unreadable files
            message = str(error) if len(str(error)) <= 160 else str(error)[:160] + "…"
            if isinstance(error, ValueError) and "could not convert string to float" in message:
                # _read_tensor_tsv_file is tried first; only a UnicodeDecodeError makes it read the file as float32.
                message += " (a binary tensor file whose bytes are valid UTF-8 is read as TSV)"
            raise CheckFailed(f"the projector plugin failed on {where}: {type(error).__name__}: {message}") from error
        if response.status_code != 200:
            text = response.get_data(as_text=True).strip()
            raise CheckFailed(f"the projector plugin answered {where} with {response.status_code}: {text}")
        return response.get_data()

    return get


def check_tensor(get, run, name, rows, columns):
    values = np.frombuffer(get("/tensor", run=run, name=name), dtype="<f4")
    if values.size != rows * columns:
        raise CheckFailed(f"embedding '{name}': the plugin served {values.size} values; the config says "
                          f"{rows}×{columns} = {rows * columns}")
    bad = int(np.count_nonzero(~np.isfinite(values)))
    return f"tensor served {rows}×{columns} float32" + (f", {bad} not finite" if bad else ", all finite")


def check_metadata(get, run, name, rows):
    text = get("/metadata", run=run, name=name).decode("utf-8")
    lines = [line for line in text.split("\n") if line.strip()]  # the front end skips blank lines
    header = lines[0].split("\t") if lines and "\t" in lines[0] else None
    points = lines[1:] if header else lines
    if len(points) != rows:
        raise CheckFailed(f"embedding '{name}': the metadata has {len(points)} rows for {rows} points")
    width = len(header) if header else 1
    for number, line in enumerate(points, start=2 if header else 1):
        if len(line.split("\t")) != width:
            raise CheckFailed(f"embedding '{name}': metadata line {number} has {len(line.split(chr(9)))} values; "
                              f"the header has {width} columns")
    columns = ", ".join(header) if header else "one unnamed column, no header"
    return f"metadata: {len(points)} rows, {width} column{'s' if width > 1 else ''} ({columns})"


def check_sprite(get, run, name, rows, cell):
    image = Image.open(io.BytesIO(get("/sprite_image", run=run, name=name)))
    width, height = image.size
    if len(cell) != 2 or min(cell) <= 0:
        raise CheckFailed(f"embedding '{name}': single_image_dim is {cell}; it needs a width and a height")
    if width > MAX_SPRITE_SIDE or height > MAX_SPRITE_SIDE:
        raise CheckFailed(f"embedding '{name}': the sprite is {width}×{height} px; the front end takes at most "
                          f"{MAX_SPRITE_SIDE} px a side")
    if width % cell[0] or height % cell[1]:
        raise CheckFailed(f"embedding '{name}': the sprite's {width}×{height} px are not whole {cell[0]}×{cell[1]} cells")
    across, down = width // cell[0], height // cell[1]
    if across != down:
        raise CheckFailed(f"embedding '{name}': the sprite is {across}×{down} cells; the front end needs a square grid")
    if across * down < rows:
        raise CheckFailed(f"embedding '{name}': the sprite has {across * down} cells for {rows} points")
    return (f"sprite: {width}×{height} px {image.mode} {image.format}, {cell[0]}×{cell[1]} px cells, "
            f"{across}×{down} grid for {rows} points")


def check_run(get, plugin, run):
    info = json.loads(get("/info", run=run))
    embeddings = info.get("embeddings", [])
    if not embeddings:
        raise CheckFailed(f"run '{run}': the config lists no embeddings")
    config_path = os.path.normpath(plugin.config_fpaths[run])
    with open(config_path, encoding="utf-8") as file:
        text = file.read()
    canonical = text == text_format.MessageToString(text_format.Parse(text, ProjectorConfig()))
    print(f"run '{run}': {len(embeddings)} embedding{'s' if len(embeddings) > 1 else ''} ({config_path}, "
          f"{'' if canonical else 'not '}in text_format's canonical form)")
    for embedding in embeddings:
        name = embedding.get("tensorName", "")
        shape = [int(size) for size in embedding.get("tensorShape", [])]
        if len(shape) != 2 or min(shape) <= 0:
            raise CheckFailed(f"embedding '{name}': tensor_shape is {shape}; the projector needs points × values")
        rows, columns = shape
        print(f"  embedding '{name}' {rows}×{columns} ({embedding.get('tensorPath', 'from a checkpoint')}): "
              + check_tensor(get, run, name, rows, columns))
        if embedding.get("metadataPath"):
            print("    " + check_metadata(get, run, name, rows))
        else:
            print("    no metadata")
        sprite = embedding.get("sprite", {})
        if sprite.get("imagePath"):
            cell = [int(size) for size in sprite.get("singleImageDim", [])]
            print("    " + check_sprite(get, run, name, rows, cell))
        else:
            print("    no sprite")
    return len(embeddings)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    logdir = os.path.abspath(sys.argv[1])
    try:
        if not os.path.isdir(logdir):
            raise CheckFailed(f"{sys.argv[1]}: not a folder")
        plugin = load_plugin(logdir)
        get = requester(plugin)
        runs = json.loads(get("/runs"))
        print(f"runs: {runs}")
        if not runs:
            raise CheckFailed(f"{sys.argv[1]}: the projector plugin found no {projector_plugin.metadata.PROJECTOR_FILENAME} "
                              "with embeddings")
        count = sum(check_run(get, plugin, run) for run in runs)
    except CheckFailed as failure:
        print(f"check_projector: {failure}", file=sys.stderr)
        return 1
    print(f"OK: {count} embedding{'s' if count > 1 else ''} in {len(runs)} run{'s' if len(runs) > 1 else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
