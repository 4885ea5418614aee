"""Code the Tools/ scripts share (fixtures, conformance, peer benchmarks). Imported as `convlens_tools` by scripts run
from Tools/ (their folder is on sys.path). Never used by the build or the tests."""
