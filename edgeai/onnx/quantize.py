"""Rewrite an ONNX model's MatMul / Gemm / Conv nodes into edgeai quantized custom-op nodes.

Each rewritten node gets its weights as GGUF block bytes (a uint8 initializer ``<node>.q``), laid
out ``[N, Kp]``: N output features, K inputs zero-padded to the format's block multiple Kp.
    MatMul(A[..., K], B[K, N])                -> EdgeaiMatMul(A, W = B^T)
    Gemm(A, B, C; alpha, beta, transA, transB) -> [Transpose(A)] EdgeaiMatMul(A', W = alpha * B'^T, beta * C)
    Conv(X, W[O, C/g, kh, kw], bias)           -> EdgeaiConv(X, W rows in (kh, kw, c) order, bias) when C/g is
                                                  a multiple of the block, else W.reshape(O, C/g*kh*kw)
MatMul / Gemm nodes reading one input (same format and K) are then merged into one EdgeaiMatMul + Split,
and an EdgeaiConv whose only reader is an Add of a residual of the same shape becomes one
EdgeaiConvAdd(X, W, B, Z) (ONNX Runtime fuses Conv + Add in its float models likewise).
Everything else, and layers too small to gain, stays float for ONNX Runtime.
"""
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

import numpy as np

from ..errors import FormatError, ModelFileError, UnsupportedArchitectureError
from ..formats import format_info
from ..tensor import quantize as ea_quantize
from .float32 import to_float32
from .ops import CONV_ADD_OP, CONV_OP, DOMAIN, MATMUL_OP

QUANTIZABLE = ("MatMul", "Gemm", "Conv")
# A layer whose K is not a multiple of a super-block format's 256 would be zero-padded up to it (the
# tiny SD text encoder's K = 32: 8x the bytes, more than float16) and takes a 32-block format of
# the same bits instead, as llama.cpp's quantizer does for such tensors: q4_K -> q4_1 (4 bits, a
# scale and a min per block, like q4_K's sub-blocks), q6_K -> q8_0.
K_FALLBACK = {"q4_K": "q4_1", "q5_K": "q8_0", "q6_K": "q8_0", "q2_K": "q4_1", "q3_K": "q4_1"}
DEFAULT_MIN_PARAMS = 1024  # below this many weights a layer stays float: the op call costs more
# A Conv doing fewer multiply-adds per input value than this stays float: (output channels per group)
# x kh x kw / (stride_h x stride_w). Its quantized form must transpose and quantize the whole input
# first, which for such a layer takes longer than the product. Terrain UNet, q8_0 (Sapphire Rapids):
# a 64 -> 32 1x1 conv at 128x128 ran 1.23 ms quantized vs 0.84 float; leaving the 13 convs under 64
# float took a step from 0.95x to 0.91x of float32 ONNX Runtime at 1 thread and 1.07x to 1.02x at 2,
# for 0.07 MB more weights (their weights are small: they are the activation-heavy layers).
DEFAULT_MIN_CONV_MACS = 64


class UnsupportedOperatorError(UnsupportedArchitectureError):
    """A node asked to be quantized whose op or attributes edgeai's ops do not cover."""


@dataclass
class QuantizeReport:
    """What :func:`quantize` did.

    Attributes:
        fmt: the block format used.
        quantized: names of rewritten nodes.
        skipped: node name -> why it stayed float.
        float_bytes: bytes of the float weights that were replaced.
        quant_bytes: bytes of their block-format replacements.
        initializer_bytes_before / initializer_bytes_after: all initializers of the model.
        fallback: node name -> the 32-block format used instead of a 256-block ``fmt`` because the
            node's K is not a multiple of 256 (see K_FALLBACK).
        float16_source: the model was float16; the output graph is float32 (weights quantized from
            the float16 values).
    """

    fmt: str
    quantized: List[str] = field(default_factory=list)
    skipped: Dict[str, str] = field(default_factory=dict)
    float_bytes: int = 0
    quant_bytes: int = 0
    initializer_bytes_before: int = 0
    initializer_bytes_after: int = 0
    float16_source: bool = False
    fallback: Dict[str, str] = field(default_factory=dict)


class _Skip(Exception):
    """This node stays float (reason in args[0])."""


def _attrs(node) -> dict:
    from onnx import helper
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _check_finite(name: str, arr: np.ndarray, where: str = "") -> None:
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ModelFileError(f"initializer {name!r}{' of ' + where if where else ''} has {bad} NaN/Inf values; "
                             "refusing to quantize it")


def _pack(w_nk: np.ndarray, fmt: str) -> Tuple[np.ndarray, int, int]:
    """Quantize ``w[N, K]`` rows, zero-padding K to the block multiple. Returns (bytes, K, Kp)."""
    info = format_info(fmt)
    n, k = w_nk.shape
    kp = -(-k // info.block_size) * info.block_size
    if kp != k:
        padded = np.zeros((n, kp), dtype=np.float32)
        padded[:, :k] = w_nk
        w_nk = padded
    return ea_quantize(np.ascontiguousarray(w_nk, dtype=np.float32), info).data, k, kp


def quantize(model_path: Union[str, Path], fmt: str = "q8_0", out_path: Union[str, Path, None] = None, *,
             nodes: Optional[Iterable[str]] = None, op_types: Iterable[str] = QUANTIZABLE,
             min_params: int = DEFAULT_MIN_PARAMS, min_conv_macs: float = DEFAULT_MIN_CONV_MACS,
             merge_shared_inputs: bool = True, fuse_residual_adds: bool = True) -> QuantizeReport:
    """Quantize an ONNX model's MatMul / Gemm / Conv weights to a GGUF block format.

    Args:
        model_path: float32 or float16 ONNX model (a float16 one comes out float32 around the
            quantized ops).
        fmt: ``"q8_0"``, ``"q4_0"``, ``"q4_K"`` (any weight format edgeai has a matmul kernel for).
        out_path: where to write the quantized model (atomically). Required.
        nodes: names of the nodes to quantize; each must be quantizable, or this raises. None: every
            MatMul / Gemm / Conv whose weights are initializers and that has at least ``min_params``
            weights (the rest stay float and are listed in the report).
        op_types: op types considered when ``nodes`` is None.
        min_params: smallest layer (weight count) quantized when ``nodes`` is None.
        min_conv_macs: when ``nodes`` is None, a Conv with fewer multiply-adds per input value
            (output channels per group x kernel area / stride area) stays float: quantizing its
            input costs more than its product saves (see DEFAULT_MIN_CONV_MACS). 0 quantizes all.
        merge_shared_inputs: MatMul / Gemm nodes that read the same input with the same format and K
            become one EdgeaiMatMul over their stacked weight rows plus a Split (the terrain UNet's
            55 time-embedding projections of one vector: 54 fewer op calls per step, same bits).
        fuse_residual_adds: an EdgeaiConv whose output only feeds an Add with a tensor of the same
            shape (by ONNX shape inference: static dims, or the graph inputs' named dims) becomes one
            EdgeaiConvAdd, which adds that tensor to each output tile while it is in cache (the
            terrain UNet's 83 residual Adds; same bits as the separate Add).
    Returns:
        A :class:`QuantizeReport`.
    Raises:
        ModelFileError: unreadable model, or NaN/Inf weights in a layer to quantize.
        UnsupportedOperatorError: a node in ``nodes`` that is missing, of another op type, or has
            attributes edgeai's ops do not cover.
        FormatError: unknown or non-weight format.
    """
    import onnx
    from onnx import helper, numpy_helper

    info = format_info(fmt)
    if not info.is_weight or info.name in ("f32",):
        raise FormatError(f"{info.name} is not a quantized weight format")
    from .. import _C
    if not (_C.dispatch("quantize", info.type_id) and (_C.dispatch("dot", info.type_id)
                                                      or _C.dispatch("gemm", info.type_id))):
        raise FormatError(f"this edgeai build has no {info.name} quantize + matmul kernels "
                          f"(see edgeai.cpu_info()['kernels'])")
    if out_path is None:
        raise ValueError("out_path is required")
    try:
        model = onnx.load(str(model_path))
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise ModelFileError(f"cannot read ONNX model {model_path}: {exc}") from exc
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    graph_inputs = {i.name for i in graph.input}
    wanted = None if nodes is None else list(nodes)
    names = [n.name for n in graph.node]
    if wanted is not None:
        missing = [n for n in wanted if n not in names]
        if missing:
            raise UnsupportedOperatorError(f"no node named {', '.join(map(repr, missing))} in {model_path}")
    op_types = tuple(op_types)
    report = QuantizeReport(info.name)
    report.initializer_bytes_before = sum(numpy_helper.to_array(t).nbytes for t in graph.initializer)
    used_names = set(names) | set(inits)

    def init_array(name: str) -> np.ndarray:
        if name not in inits or name in graph_inputs:
            raise _Skip(f"input {name!r} is not a constant initializer")
        return numpy_helper.to_array(inits[name])

    def unique(base: str) -> str:
        name, i = base, 1
        while name in used_names:
            name, i = f"{base}_{i}", i + 1
        used_names.add(name)
        return name

    new_nodes, new_inits = [], []
    for idx, node in enumerate(graph.node):
        label = node.name or f"{node.op_type}_{idx}"
        explicit = wanted is not None and node.name in wanted
        if wanted is not None and not explicit:
            new_nodes.append(node)
            continue
        if not explicit and node.op_type not in op_types:
            new_nodes.append(node)
            continue
        try:
            if node.op_type not in QUANTIZABLE:
                raise UnsupportedOperatorError(
                    f"node {label!r} is a {node.op_type}; edgeai quantizes only {', '.join(QUANTIZABLE)}")
            rewritten = _rewrite(node, label, init_array, unique, info.name, explicit, min_params, min_conv_macs,
                                 report.fallback)
        except _Skip as why:
            if explicit:
                raise UnsupportedOperatorError(f"cannot quantize node {label!r} ({node.op_type}): {why}") from None
            report.skipped[label] = str(why)
            # a layer left float still must not carry NaN/Inf weights: they would poison every output
            for name in node.input[1:]:
                if name in inits and name not in graph_inputs:
                    arr = numpy_helper.to_array(inits[name])
                    if arr.dtype.kind == "f":
                        _check_finite(name, arr, f"node {label!r} ({node.op_type}, left float)")
            new_nodes.append(node)
            continue
        nodes_out, inits_out, fbytes = rewritten
        new_nodes.extend(nodes_out)
        new_inits.extend(inits_out)
        report.quantized.append(label)
        report.float_bytes += fbytes
        report.quant_bytes += sum(len(t.raw_data) for t in inits_out if t.data_type == onnx.TensorProto.UINT8)

    if merge_shared_inputs:
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 18)
        new_nodes, new_inits = _merge_shared_input_matmuls(new_nodes, new_inits, unique, opset)
    if fuse_residual_adds and any(n.op_type == CONV_OP and n.domain == DOMAIN for n in new_nodes):
        keep_out = {o.name for o in graph.output} | _subgraph_inputs(graph)
        new_nodes = _fuse_residual_adds(new_nodes, _static_shapes(model), keep_out, unique)
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(new_inits)
    # drop float weights no node reads any more
    read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    read |= _subgraph_inputs(graph)
    keep = [t for t in graph.initializer if t.name in read]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    if report.quantized and not any(o.domain == DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(DOMAIN, 1))
    # a float16 export: its big weights were quantized straight from float16 above; what stays float
    # becomes float32, which edgeai's ops and ONNX Runtime's CPU kernels take (see edgeai.onnx.float32)
    report.float16_source = to_float32(model) > 0
    report.initializer_bytes_after = sum(numpy_helper.to_array(t).nbytes for t in graph.initializer)
    _save_atomic(model, Path(out_path))
    return report


def _node_params(node) -> dict:
    from onnx import helper
    return json.loads(next(helper.get_attribute_value(a) for a in node.attribute if a.name == "params"))


def _merge_shared_input_matmuls(nodes: list, inits: list, unique, opset: int) -> Tuple[list, list]:
    """EdgeaiMatMul nodes with the same input, format, K and Kp -> one EdgeaiMatMul + Split.

    Weight rows are independent, so the stacked [sum N, Kp] bytes are the members' bytes one after
    the other; every output element is the same dot product as before (same activation prescale:
    the input is the same tensor). The merged node sits where the first member was: its input
    exists there, and every member's consumers come after it.
    """
    from onnx import helper, numpy_helper
    groups: Dict[tuple, List[int]] = {}
    for i, n in enumerate(nodes):
        if n.domain == DOMAIN and n.op_type == MATMUL_OP:
            p = _node_params(n)
            groups.setdefault((n.input[0], p["fmt"], p["k"], p["kp"]), []).append(i)
    groups = {key: idx for key, idx in groups.items() if len(idx) > 1}
    if not groups:
        return nodes, inits
    by_name = {t.name: t for t in inits}
    drop_nodes, drop_inits, insert = set(), set(), {}
    for (x_in, fmt, k, kp), idx in groups.items():
        members = [nodes[i] for i in idx]
        ns, ws, bs = [], [], []
        for m in members:
            n = _node_params(m)["n"]
            ns.append(n)
            ws.append(numpy_helper.to_array(by_name[m.input[1]]))
            b = numpy_helper.to_array(by_name[m.input[2]]).astype(np.float32)
            bs.append(b if b.size else np.zeros(n, np.float32))
            drop_inits.update(m.input[1:3])
        first = members[0].name or "matmul"
        w_name, b_name, y_name = unique(f"{first}.merged.q"), unique(f"{first}.merged.bias"), unique(f"{first}.merged")
        inits_new = [numpy_helper.from_array(np.concatenate(ws), w_name),
                     numpy_helper.from_array(np.concatenate(bs), b_name)]
        params = json.dumps(dict(fmt=fmt, n=int(sum(ns)), k=k, kp=kp), separators=(",", ":"))
        mm = helper.make_node(MATMUL_OP, [x_in, w_name, b_name], [y_name], name=unique(f"{first}.merged"),
                              domain=DOMAIN, params=params)
        outs = [m.output[0] for m in members]
        if opset >= 13:
            s_name = unique(f"{first}.merged.split")
            inits_new.append(numpy_helper.from_array(np.array(ns, np.int64), s_name))
            split = helper.make_node("Split", [y_name, s_name], outs, name=unique(f"{first}.split"), axis=-1)
        else:
            split = helper.make_node("Split", [y_name], outs, name=unique(f"{first}.split"), axis=-1, split=ns)
        insert[idx[0]] = ([mm, split], inits_new)
        drop_nodes.update(idx)
    out_nodes, out_inits = [], [t for t in inits if t.name not in drop_inits]
    for i, n in enumerate(nodes):
        if i in insert:
            out_nodes.extend(insert[i][0])
            out_inits.extend(insert[i][1])
        elif i not in drop_nodes:
            out_nodes.append(n)
    return out_nodes, out_inits


def _static_shapes(model) -> Dict[str, tuple]:
    """Tensor name -> shape from ONNX shape inference on the float model, for the tensors whose every
    dim is a number or a named dim of a graph input (ONNX means one name to be one size; ONNX Runtime
    does not enforce it across inputs, and a fused op fed differing sizes raises ShapeError where
    the Add would have broadcast); {} if inference fails (nothing is fused then)."""
    from onnx import shape_inference
    try:
        inferred = shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - e.g. a model over 2 GB: skip the fusion, not the quantization
        return {}
    g = inferred.graph
    named = {d.dim_param for i in g.input for d in i.type.tensor_type.shape.dim if d.dim_param}
    out = {}
    for vi in list(g.input) + list(g.value_info) + list(g.output):
        t = vi.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = tuple(d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim)
        if all(isinstance(d, int) or d in named for d in dims):
            out[vi.name] = dims
    return out


def _fuse_residual_adds(nodes: list, shapes: Dict[str, tuple], keep_out: set, unique) -> list:
    """EdgeaiConv(X, W, B) -> Y, Add(Y, Z) or Add(Z, Y) -> S, where the Add is Y's only reader and Z
    has Y's shape: one EdgeaiConvAdd(X, W, B, Z) -> S, placed where the Add was (Z exists there, and
    so do the conv's inputs, which preceded it). Y must not be a graph output or read by a subgraph.
    ((conv + bias) + Z is rounded as the Add rounded it: same bits.)"""
    from onnx import helper
    readers: Dict[str, List[int]] = {}
    for i, n in enumerate(nodes):
        for name in n.input:
            readers.setdefault(name, []).append(i)
    fused_at, drop = {}, set()
    for i, n in enumerate(nodes):
        if n.op_type != CONV_OP or n.domain != DOMAIN:
            continue
        y = n.output[0]
        r = readers.get(y, [])
        if y in keep_out or len(r) != 1:
            continue
        add = nodes[r[0]]
        if add.op_type != "Add" or add.domain not in ("", "ai.onnx") or len(add.input) != 2 or r[0] in fused_at:
            continue
        others = [name for name in add.input if name != y]
        if len(others) != 1 or shapes.get(y) is None or shapes.get(others[0]) != shapes[y]:
            continue
        params = next(a for a in n.attribute if a.name == "params").s.decode()
        fused_at[r[0]] = helper.make_node(CONV_ADD_OP, list(n.input) + [others[0]], [add.output[0]],
                                          name=unique(f"{n.name or 'conv'}.add"), domain=DOMAIN, params=params)
        drop.add(i)
    return [fused_at.get(i, n) for i, n in enumerate(nodes) if i not in drop]


def _subgraph_inputs(graph) -> set:
    """Names read inside If/Loop/Scan bodies (they may use outer initializers)."""
    out = set()
    for n in graph.node:
        for a in n.attribute:
            for g in list(a.graphs) + ([a.g] if a.HasField("g") else []):
                out |= {i for m in g.node for i in m.input}
                out |= _subgraph_inputs(g)
    return out


def _node_fmt(fmt: str, k: int, label: str, fallback: Dict[str, str]) -> str:
    """``fmt``, or its 32-block stand-in (K_FALLBACK) when K is not a multiple of its block; noted in ``fallback``."""
    if format_info(fmt).block_size > 32 and k % format_info(fmt).block_size and fmt in K_FALLBACK:
        fallback[label] = K_FALLBACK[fmt]
        return K_FALLBACK[fmt]
    return fmt


def _rewrite(node, label, init_array, unique, fmt, explicit, min_params, min_conv_macs, fallback):
    """One node -> (new nodes, new initializers, float bytes replaced). Raises _Skip."""
    from onnx import helper, numpy_helper
    a = _attrs(node)
    if node.op_type == "Conv":
        if len(node.input) < 2:
            raise _Skip("Conv without weights")
        w = init_array(node.input[1])
        if w.ndim != 4:
            raise _Skip(f"only 2-D Conv is supported (weights of rank {w.ndim})")
        if not explicit and w.size < min_params:
            raise _Skip(f"{w.size} weights < min_params={min_params}")
        _check_finite(node.input[1], w)
        o, cg, kh, kw = w.shape
        group = int(a.get("group", 1))
        strides = [int(v) for v in a.get("strides", [1, 1])]
        macs = (o // max(group, 1)) * kh * kw / max(strides[0] * strides[1], 1)
        if not explicit and macs < min_conv_macs:
            raise _Skip(f"{macs:g} multiply-adds per input value < min_conv_macs={min_conv_macs:g}")
        auto_pad = a.get("auto_pad", "NOTSET")
        if auto_pad not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
            raise _Skip(f"auto_pad={auto_pad!r}")
        if "kernel_shape" in a and list(a["kernel_shape"]) != [kh, kw]:
            raise _Skip(f"kernel_shape {a['kernel_shape']} does not match weights {w.shape}")
        if o % group:
            raise _Skip(f"{o} output channels not a multiple of group={group}")
        pads = list(a.get("pads", [0, 0, 0, 0])) if auto_pad == "NOTSET" else [0, 0, 0, 0]
        bias = np.zeros(0, np.float32)
        if len(node.input) > 2 and node.input[2]:
            bias = init_array(node.input[2]).astype(np.float32).reshape(-1)
            _check_finite(node.input[2], bias)
        # a group's channels in whole blocks: rows in (kh, kw, c) order, so the op quantizes the
        # input once as NHWC blocks and copies patches block by block (edgeai.onnx.im2col.conv2d_nhwc)
        # K per row is cg * kh * kw; with the hwc layout a block must not straddle channels, so the
        # fallback is judged on cg for hwc-capable formats, on the whole row otherwise
        fmt = _node_fmt(fmt, cg if cg % format_info(fmt).block_size == 0 else cg * kh * kw, label, fallback)
        hwc = cg % format_info(fmt).block_size == 0
        rows = (w.transpose(0, 2, 3, 1) if hwc else w).reshape(o, cg * kh * kw)
        data, k, kp = _pack(rows.astype(np.float32), fmt)
        params = dict(fmt=fmt, n=o, k=k, kp=kp, kernel=[kh, kw], group=group, auto_pad=auto_pad,
                      strides=strides, pads=[int(p) for p in pads],
                      dilations=[int(d) for d in a.get("dilations", [1, 1])])
        if hwc:
            params["layout"] = "hwc"
        op, x_in, fbytes = CONV_OP, node.input[0], w.nbytes
        pre = []
    elif node.op_type == "MatMul":
        b = init_array(node.input[1])
        if b.ndim != 2:
            raise _Skip(f"MatMul weights of rank {b.ndim} (only 2-D [K, N])")
        if not explicit and b.size < min_params:
            raise _Skip(f"{b.size} weights < min_params={min_params}")
        _check_finite(node.input[1], b)
        fmt = _node_fmt(fmt, b.shape[0], label, fallback)
        data, k, kp = _pack(b.T.astype(np.float32), fmt)
        bias = np.zeros(0, np.float32)
        params = dict(fmt=fmt, n=b.shape[1], k=k, kp=kp)
        op, x_in, fbytes, pre = MATMUL_OP, node.input[0], b.nbytes, []
    else:  # Gemm
        b = init_array(node.input[1])
        if b.ndim != 2:
            raise _Skip(f"Gemm weights of rank {b.ndim}")
        if not explicit and b.size < min_params:
            raise _Skip(f"{b.size} weights < min_params={min_params}")
        _check_finite(node.input[1], b)
        alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
        w_nk = (b if a.get("transB", 0) else b.T).astype(np.float32) * np.float32(alpha)
        n = w_nk.shape[0]
        bias = np.zeros(0, np.float32)
        if len(node.input) > 2 and node.input[2]:
            c = init_array(node.input[2]).astype(np.float32)
            if c.size not in (1, n) or (c.ndim == 2 and c.shape[0] != 1):
                raise _Skip(f"Gemm C of shape {c.shape} is not a per-output bias")
            _check_finite(node.input[2], c)
            bias = np.broadcast_to(c.reshape(-1), (n,)).astype(np.float32) * np.float32(beta)
        fmt = _node_fmt(fmt, w_nk.shape[1], label, fallback)
        data, k, kp = _pack(w_nk, fmt)
        params = dict(fmt=fmt, n=n, k=k, kp=kp)
        op, x_in, fbytes, pre = MATMUL_OP, node.input[0], b.nbytes, []
        if a.get("transA", 0):
            t_out = unique(f"{label}.a_t")
            pre = [helper.make_node("Transpose", [x_in], [t_out], name=unique(f"{label}.transpose_a"), perm=[1, 0])]
            x_in = t_out
    w_name, b_name = unique(f"{label}.q"), unique(f"{label}.bias")
    inits = [numpy_helper.from_array(data, w_name), numpy_helper.from_array(bias.astype(np.float32), b_name)]
    new = helper.make_node(op, [x_in, w_name, b_name], list(node.output), name=node.name or None,
                           domain=DOMAIN, params=json.dumps(params, separators=(",", ":")))
    return pre + [new], inits, fbytes


def _save_atomic(model, path: Path) -> None:
    """Serialize to a temp file beside ``path``, then os.replace (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
