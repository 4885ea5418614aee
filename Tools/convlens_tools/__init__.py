"""Code the Tools/ scripts share (fixtures, conformance, peer benchmarks). Imported as `convlens_tools` by scripts run
from Tools/ (their folder is on sys.path). Never used by the build or the tests.

- metrics: rel_l2 and max_abs, the error measures every script reports.
- onnx_graph: reading an ONNX graph (attributes, initializers, producers, consumers); onnx only.
- onnx_torch: the ONNX -> PyTorch evaluator (OnnxGraphModule): autograd, per-node hooks, float64.
- onnxruntime_eval: onnxruntime sessions as the reference (one thread, graph optimizations off).
- onnx_export: torch.onnx.export as ConvLens reads it, constant folding, `convlens.*` metadata, supported ops.
- models: random-weight torchvision models, EfficientNet-Lite0's weights, BatchNorm statistics for test models,
  the bundled MNIST model's preprocessing.
- fixtures: .npy and JSON writing, and the per-fixture folder that records what it wrote; numpy only.
- determinism: seeds, thread count and deterministic algorithms for reproducible torch runs.
"""
