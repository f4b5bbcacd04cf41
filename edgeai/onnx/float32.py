"""Float16 ONNX graphs turned into float32 ones, for ONNX Runtime's CPU provider.

Many exports on the hub (every SD-Turbo ONNX export we know of, for one) are float16: made for GPUs,
half the download. ONNX Runtime's CPU provider has float16 kernels for few ops (a float16 Conv or
GroupNorm-style InstanceNormalization fails to load, or runs through slow casts), so edgeai runs such
graphs in float32: every float16 initializer, constant, Cast target and value type becomes float32.
Quantizing reads the float16 weights directly (``edgeai.onnx.quantize`` converts what stays float
afterwards), so a quantized copy never holds a float32 copy of the big weights.
"""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import ModelFileError

# ONNX Runtime's protobuf limit: a model above it must keep its weights in an external data file
_PROTO_LIMIT = 2 ** 31 - 2 ** 24


def is_float16(path: Union[str, Path]) -> bool:
    """True when the model's graph inputs, outputs or initializers are float16 (reads no external data)."""
    import onnx
    try:
        g = onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:
        raise ModelFileError(f"cannot read ONNX model {path}: {exc}") from exc
    f16 = onnx.TensorProto.FLOAT16
    return (any(t.data_type == f16 for t in g.initializer)
            or any(v.type.tensor_type.elem_type == f16 for v in list(g.input) + list(g.output)))


def to_float32(model) -> int:
    """Rewrite a loaded ``onnx.ModelProto`` (weights loaded) from float16 to float32, in place.

    Converts initializers, Constant / ConstantOfShape values, Cast(to=float16) and ``dtype``
    attributes, and the element types of graph inputs, outputs and value_info, in subgraphs too.

    Args:
        model: the model; its external data must be loaded.
    Returns:
        The number of tensors and types changed (0: the model had no float16 in it).
    Raises:
        ModelFileError: a bfloat16 graph (not handled), or float16 weights whose data is missing.
    """
    return _graph(model.graph)


def _graph(g) -> int:
    import onnx
    f16, f32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    n = 0
    for t in g.initializer:
        n += _tensor(t)
    for v in list(g.input) + list(g.output) + list(g.value_info):
        n += _type(v.type)
    for node in g.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                n += _tensor(a.t)
            elif a.type == onnx.AttributeProto.TENSORS:
                n += sum(_tensor(t) for t in a.tensors)
            elif a.type == onnx.AttributeProto.GRAPH:
                n += _graph(a.g)
            elif a.type == onnx.AttributeProto.GRAPHS:
                n += sum(_graph(s) for s in a.graphs)
            elif a.type == onnx.AttributeProto.INT and a.name in ("to", "dtype") and a.i == f16:
                a.i = f32
                n += 1
            elif a.type == onnx.AttributeProto.INT and a.name in ("to", "dtype") and a.i == onnx.TensorProto.BFLOAT16:
                raise ModelFileError(f"node {node.name or node.op_type!r} casts to bfloat16; edgeai converts "
                                     "float16 graphs to float32, not bfloat16 ones")
    return n


def _tensor(t) -> int:
    import onnx
    from onnx import numpy_helper
    if t.data_type == onnx.TensorProto.BFLOAT16:
        raise ModelFileError(f"tensor {t.name!r} is bfloat16; edgeai converts float16 graphs to float32, "
                             "not bfloat16 ones")
    if t.data_type != onnx.TensorProto.FLOAT16:
        return 0
    if t.data_location == onnx.TensorProto.EXTERNAL:
        raise ModelFileError(f"float16 tensor {t.name!r} keeps its data in an external file that was not loaded")
    arr = numpy_helper.to_array(t).astype(np.float32)
    t.CopyFrom(numpy_helper.from_array(arr, t.name))
    return 1


def _type(tp) -> int:
    import onnx
    which = tp.WhichOneof("value")
    if which == "tensor_type":
        if tp.tensor_type.elem_type == onnx.TensorProto.FLOAT16:
            tp.tensor_type.elem_type = onnx.TensorProto.FLOAT
            return 1
        if tp.tensor_type.elem_type == onnx.TensorProto.BFLOAT16:
            raise ModelFileError("the graph has bfloat16 values; edgeai converts float16 graphs to float32, "
                                 "not bfloat16 ones")
        return 0
    if which == "sequence_type":
        return _type(tp.sequence_type.elem_type)
    if which == "optional_type":
        return _type(tp.optional_type.elem_type)
    return 0


def float32_copy(src: Union[str, Path], out_dir: Union[str, Path]) -> Path:
    """Write ``src`` converted to float32 as ``out_dir/model.onnx`` (+ ``model.onnx.data`` when large).

    The folder appears atomically: it is written under a temporary name beside ``out_dir``, then
    renamed, so a reader sees all of it or nothing.

    Args:
        src: an ONNX model (float16 or not; its external data is read).
        out_dir: folder to create; must not exist yet.
    Returns:
        The path of the float32 ``model.onnx``.
    Raises:
        ModelFileError: unreadable model, or one :func:`to_float32` refuses.
    """
    import onnx
    out_dir = Path(out_dir)
    try:
        model = onnx.load(str(src))
    except Exception as exc:
        raise ModelFileError(f"cannot read ONNX model {src}: {exc}") from exc
    to_float32(model)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        # counted per initializer: the whole model's ByteSize() may refuse a message over 2 GB
        big = sum(t.ByteSize() for t in model.graph.initializer) > _PROTO_LIMIT
        onnx.save_model(model, str(tmp / "model.onnx"), save_as_external_data=big, all_tensors_to_one_file=True,
                        location="model.onnx.data", size_threshold=0)
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if not (out_dir / "model.onnx").is_file():  # not another process finishing first
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir / "model.onnx"


__all__ = ["float32_copy", "is_float16", "to_float32"]
