"""An ONNX Runtime session configured by edgeai: thread counts set, edgeai's custom ops registered."""
import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .. import _env
from ..errors import ModelFileError
from ..tensor import _check_threads
from . import ops

_log = logging.getLogger(__name__)
_BACKENDS = ("auto", "native", "python")


def _uses_edgeai_ops(model_bytes_or_path) -> bool:
    import onnx
    m = onnx.load_model_from_string(model_bytes_or_path) if isinstance(model_bytes_or_path, bytes) \
        else onnx.load(str(model_bytes_or_path), load_external_data=False)
    return any(n.domain == ops.DOMAIN for n in m.graph.node)


class InferenceSession:
    """ONNX Runtime running a float or edgeai-quantized model.

    ONNX Runtime executes the graph; nodes rewritten by :func:`edgeai.onnx.quantize` call edgeai's
    kernels. With the native ops on ONNX Runtime >= 1.17 the kernels' tasks run on ONNX Runtime's
    own intra-op pool (``threads`` workers, one set for the whole graph). Otherwise edgeai's pool
    runs them, both pools use ``threads`` and never at the same time (one node at a time; ORT's
    workers do not spin-wait then), so the machine is not oversubscribed either way.

    The edgeai ops run from the native op library in edgeai._C (no Python per op); if ONNX Runtime
    refuses it (older than 1.16), from the Python ops of onnxruntime-extensions, with the reason in
    ``custom_ops_fallback``.

    Threads: ``run`` sets the kernels' thread count and pool for the calling thread before each run
    (nodes run on that thread). Caveat: a node that ONNX Runtime ran on another thread would use
    the count and pool set last by any session of the process.

    Args:
        model: path of an ONNX model, or its serialized bytes.
        threads: threads for ONNX Runtime's ops and edgeai's kernels (None: edgeai's global count).
        providers: ONNX Runtime execution providers (default CPU).
        custom_ops: "auto" (native, else Python), "native" or "python"; None: EDGEAI_ONNX_OPS (default auto).
    Attributes:
        custom_ops: "native" or "python" for a model with edgeai ops, else None.
        custom_ops_fallback: why the native ops were not used ("auto" only), else None.
        op_pool: where the edgeai ops' kernel threads run, for a model with edgeai ops (else None):
            "ort", ONNX Runtime's intra-op pool (native ops on ONNX Runtime >= 1.17, unless
            EDGEAI_ONNX_POOL=edgeai), or "edgeai", edgeai's own pool.
    Raises:
        ModelFileError: the file is missing or ONNX Runtime cannot load it.
        ValueError: bad ``threads`` or ``custom_ops``.
        RuntimeError: ``custom_ops="native"`` and ONNX Runtime refuses the native library.
    """

    def __init__(self, model: Union[str, Path, bytes], *, threads: Optional[int] = None,
                 providers: Sequence[str] = ("CPUExecutionProvider",), custom_ops: Optional[str] = None):
        import onnxruntime as ort
        from .. import get_num_threads
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise ModelFileError(f"no ONNX model at {model}")
        backend = custom_ops or _env.ONNX_OPS
        if backend not in _BACKENDS:
            raise ValueError(f"custom_ops must be one of {', '.join(_BACKENDS)}, not {backend!r}")
        self.threads = threads
        self.quantized = _uses_edgeai_ops(model)
        self.custom_ops: Optional[str] = None
        self.custom_ops_fallback: Optional[str] = None
        self.op_pool: Optional[str] = None

        def options():
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads or get_num_threads()
            so.inter_op_num_threads = 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            return so

        so = options()
        if self.quantized:
            _check_threads(threads)
            if backend in ("auto", "native"):
                try:
                    so.register_custom_ops_library(ops.register())
                    self.custom_ops = "native"
                except Exception as exc:  # noqa: BLE001 - an old ONNX Runtime: fall back below
                    err = ops.native_error(exc) or exc
                    if backend == "native":
                        raise RuntimeError(f"edgeai's native ONNX ops cannot be registered: {err}") from exc
                    self.custom_ops_fallback = f"native ops not registered: {err}"
                    _log.info("edgeai.onnx: %s; using the Python ops", self.custom_ops_fallback)
                    so = options()  # a failed registration may leave state behind: start afresh
            if self.custom_ops is None:
                so.register_custom_ops_library(ops.register_python())
                self.custom_ops = "python"
            self.op_pool = "ort" if self.custom_ops == "native" and ops.use_ort_pool() else "edgeai"
            if self.op_pool == "edgeai":
                # ORT's idle intra-op workers spin between its ops by default; during an edgeai op they
                # would take the cores edgeai's own pool runs on (terrain UNet, 2 threads, 2 cores:
                # CPU per image 1.10-1.18 s spinning vs 0.88 s not). On ORT's pool they may spin.
                so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._sess = ort.InferenceSession(model if isinstance(model, bytes) else str(model), so,
                                              providers=list(providers))
        except Exception as exc:
            hint = ""
            if "Could not find an implementation" in str(exc):
                # e.g. Olive's CUDA exports (onnxruntime/sd-turbo): GroupNorm, NhwcConv, BiasSplitGelu
                hint = (" (an op the CPU provider lacks: is this export optimized for a GPU provider? "
                        "use a plain float32 or float16 ONNX export)")
            raise ModelFileError(f"ONNX Runtime cannot load {'model bytes' if isinstance(model, bytes) else model}:"
                                 f" {exc}{hint}") from exc

    @property
    def input_names(self) -> List[str]:
        return [i.name for i in self._sess.get_inputs()]

    @property
    def output_names(self) -> List[str]:
        return [o.name for o in self._sess.get_outputs()]

    def get_inputs(self):
        return self._sess.get_inputs()

    def get_outputs(self):
        return self._sess.get_outputs()

    def run(self, output_names: Optional[List[str]], feeds: Dict[str, np.ndarray]) -> List[np.ndarray]:
        """Run the model, like ``onnxruntime.InferenceSession.run``.

        Args:
            output_names: outputs wanted (None: all).
            feeds: input name -> numpy array.
        Returns:
            The outputs, in order.
        """
        if self.quantized:
            ops.set_threads(self.threads, ort_pool=self.op_pool == "ort")
        ops.take_error()
        try:
            out = self._sess.run(output_names, feeds)
        except Exception as exc:
            err = ops.take_error() or ops.native_error(exc)  # an edgeai op failed: that is the real cause
            if err is not None:
                raise err from exc
            raise
        err = ops.take_error()
        if err is not None:
            raise err
        return out
