"""pytest-benchmark set-up for bench/: run with ``python -m pytest bench/ --benchmark-only``.

Not part of the test suite (``pytest tests`` and the configured testpaths never collect bench/).
The OpenBLAS overrides are dropped here, before numpy is imported, as in bench_matmul.py.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from blas_env import blas_report, drop_openblas_overrides  # noqa: E402

drop_openblas_overrides()


def pytest_report_header(config):
    import membw
    edgeai = membw.import_edgeai()
    info = edgeai.cpu_info()
    lines = [f"edgeai: best ISA {info['best_isa']} (cap {info['isa_cap']}), "
             f"{info['num_threads']} threads by default; features {' '.join(info['features'])}"]
    return lines + blas_report()
