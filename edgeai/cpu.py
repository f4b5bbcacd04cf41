"""CPU features, ISA cap and thread count: what runs, and how to steer it."""
import platform
from typing import Optional

from . import _C, _env
from .errors import UnsupportedArchitectureError
from .formats import FORMATS


def set_isa(cap: Optional[str]) -> None:
    """Cap the kernel dispatch at ``cap`` (``"avx2"``, ``"ref"``...) or lift the cap with None.

    Raises:
        UnsupportedArchitectureError: unknown ISA, or one of another CPU architecture.
    """
    if cap is not None and cap not in _C.all_isa_names():
        raise UnsupportedArchitectureError(f"unknown ISA {cap!r}; known: {', '.join(_C.all_isa_names())}")
    if cap is not None and cap not in [i["name"] for i in _C.isas()]:
        raise UnsupportedArchitectureError(
            f"ISA {cap!r} is not of this CPU architecture ({platform.machine()}); "
            f"this one has: {', '.join(i['name'] for i in _C.isas())}")
    _C.set_isa_cap(cap)


def set_num_threads(n: Optional[int]) -> None:
    """Set the kernel pool's default thread count (None or 0: all CPUs this process may use)."""
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        raise ValueError(f"thread count must be a non-negative integer or None, not {n!r}")
    _C.set_num_threads(n or 0)


def get_num_threads() -> int:
    """The kernel pool's default thread count."""
    return _C.get_num_threads()


def cpu_info() -> dict:
    """What this CPU has and which kernel runs for each format and op.

    Returns:
        dict with ``arch``, ``features`` (detected, OS support included), ``isa_cap`` (None when
        uncapped), ``isas`` (this architecture's ISAs in priority order with ``compiled``,
        ``supported`` and ``enabled``: supported and under the cap), ``best_isa``,
        ``num_threads`` and ``kernels``: for each format, the variant names chosen for quantize, dequantize, dot and gemm (None where there is none).
    """
    kernels = {}
    for name, f in FORMATS.items():
        entry = {op: _C.dispatch(op, f.type_id) for op in ("quantize", "dequantize", "dot", "gemm")}
        if f.is_weight and f.act_format != "f32":
            entry["activation_quantize"] = _C.dispatch("quantize", FORMATS[f.act_format].type_id)
        kernels[name] = entry
    isas = _C.isas()
    usable = [i["name"] for i in isas if i["compiled"] and i["supported"]]
    cap = _C.get_isa_cap()
    if cap is not None:
        rank = {i["name"]: i["rank"] for i in isas}
        usable = [n for n in usable if rank[n] <= rank[cap]]
    return {
        "arch": platform.machine(),
        "features": _C.cpu_features(),
        "isa_cap": cap,
        "isas": isas,
        "best_isa": usable[-1] if usable else "ref",
        "num_threads": get_num_threads(),
        "kernels": kernels,
    }


def _apply_env() -> None:
    """Apply EDGEAI_ISA / EDGEAI_NUM_THREADS (read once in _env) at import."""
    if _env.ISA_CAP:
        set_isa(_env.ISA_CAP)
    if _env.NUM_THREADS:
        try:
            n = int(_env.NUM_THREADS)
        except ValueError:
            raise ValueError(f"EDGEAI_NUM_THREADS must be an integer, got {_env.NUM_THREADS!r}") from None
        set_num_threads(n)
