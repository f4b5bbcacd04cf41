"""OpenBLAS overrides for the benchmark process only, and which OpenBLAS kernel then runs.

Some of these machines set OPENBLAS_CORETYPE (and OPENBLAS_L2_SIZE) because old OpenBLAS builds
misdetect their CPU; with a current numpy they force a slower kernel. A fair numpy baseline drops
both, together, in the benchmark process alone (never in tests or CI). OpenBLAS reads them when it
is loaded, so :func:`drop_openblas_overrides` must run before numpy is first imported.
"""
import os
import sys
from typing import Dict, List

OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_dropped: Dict[str, str] = {}
_too_late = False


def drop_openblas_overrides() -> Dict[str, str]:
    """Unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in this process (before numpy loads OpenBLAS).

    Returns:
        The variables that were set, with their values (empty if none was).
    """
    global _too_late
    if "numpy" in sys.modules:
        _too_late = any(v in os.environ for v in OPENBLAS_VARS)
        return {}
    for v in OPENBLAS_VARS:
        if v in os.environ:
            _dropped[v] = os.environ.pop(v)
    return dict(_dropped)


def blas_report() -> List[str]:
    """Lines saying what was unset and which BLAS libraries and kernels numpy runs (threadpoolctl)."""
    lines = []
    if _dropped:
        lines.append("unset for this process: " + ", ".join(f"{k}={v}" for k, v in _dropped.items()))
    if _too_late:
        lines.append("WARNING: numpy was imported before the OpenBLAS overrides could be dropped; "
                     "its numbers use the forced core type (run with env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)")
    try:
        import numpy  # noqa: F401  (loads the BLAS so threadpoolctl sees it)
        from threadpoolctl import threadpool_info
    except ImportError:
        return lines + ["threadpoolctl not installed: BLAS kernel unknown (pip install threadpoolctl)"]
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        lines.append(f"numpy BLAS: {info.get('internal_api')} {info.get('version')}, "
                     f"kernel {info.get('architecture')}, threading {info.get('threading_layer')}, "
                     f"max threads {info.get('num_threads')}")
    return lines
