"""onnxruntime as the scripts' reference: one way to open a CPU session and read a model's output.

By default a session runs the graph as written (graph optimizations off: fusing BatchNorm into Conv or Add into
Gemm re-associates sums, and the reference should be the function the ONNX file states) on one thread, which keeps
fixture numbers independent of the machine's core count.
"""
import onnxruntime as ort


def make_session(model, threads: int | None = 1, optimize: bool = False, quiet: bool = False):
    """A CPUExecutionProvider session for `model`, a path or the serialized bytes.

    threads: intra-op threads (None: onnxruntime's default, one per core). optimize: onnxruntime's default graph
    optimizations instead of none. quiet: log errors only (graphs mutated on purpose leave unused initializers,
    which onnxruntime warns about).
    """
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if quiet:
        options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def first_output(session, x):
    """The session's first output for `x` fed to its first input (the scripts' models have one of each)."""
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def evaluate(model, x, **options):
    """first_output of a fresh make_session(model, **options)."""
    return first_output(make_session(model, **options), x)
