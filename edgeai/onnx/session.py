"""An ONNX Runtime session configured by edgeai: thread counts set, edgeai's custom ops registered."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import ModelFileError
from . import ops


def _uses_edgeai_ops(model_bytes_or_path) -> bool:
    import onnx
    m = onnx.load_model_from_string(model_bytes_or_path) if isinstance(model_bytes_or_path, bytes) \
        else onnx.load(str(model_bytes_or_path), load_external_data=False)
    return any(n.domain == ops.DOMAIN for n in m.graph.node)


class InferenceSession:
    """ONNX Runtime running a float or edgeai-quantized model.

    ONNX Runtime executes the graph; nodes rewritten by :func:`edgeai.onnx.quantize` call edgeai's
    kernels. Both thread pools use ``threads``, and they never run at the same time (one node at a
    time; ORT's workers do not spin-wait in a session with edgeai ops), so the machine is not
    oversubscribed.

    Args:
        model: path of an ONNX model, or its serialized bytes.
        threads: threads for ONNX Runtime's ops and edgeai's kernels (None: edgeai's global count).
        providers: ONNX Runtime execution providers (default CPU).
    Raises:
        ModelFileError: the file is missing or ONNX Runtime cannot load it.
    """

    def __init__(self, model: Union[str, Path, bytes], *, threads: Optional[int] = None,
                 providers: Sequence[str] = ("CPUExecutionProvider",)):
        import onnxruntime as ort
        from .. import get_num_threads
        if not isinstance(model, bytes) and not Path(model).is_file():
            raise ModelFileError(f"no ONNX model at {model}")
        self.threads = threads
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads or get_num_threads()
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.quantized = _uses_edgeai_ops(model)
        if self.quantized:
            so.register_custom_ops_library(ops.register())
            # ORT's idle intra-op workers spin between its ops by default; during an edgeai op they
            # would take the cores edgeai's own pool runs on (terrain UNet, 2 threads, 2 cores:
            # CPU per image 1.10-1.18 s spinning vs 0.88 s not)
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._sess = ort.InferenceSession(model if isinstance(model, bytes) else str(model), so,
                                              providers=list(providers))
        except Exception as exc:
            raise ModelFileError(f"ONNX Runtime cannot load {'model bytes' if isinstance(model, bytes) else model}:"
                                 f" {exc}") from exc

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
        ops.set_threads(self.threads)
        ops.take_error()
        try:
            out = self._sess.run(output_names, feeds)
        except Exception as exc:
            err = ops.take_error()  # an edgeai op failed first: that is the real cause
            if err is not None:
                raise err from exc
            raise
        err = ops.take_error()
        if err is not None:
            raise err
        return out
