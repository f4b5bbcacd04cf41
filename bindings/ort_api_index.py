"""Slot numbers of functions in ONNX Runtime's ``struct OrtApi`` (for bindings/ort_api_min.h).

OrtApi is an append-only table of function pointers: a function's slot never moves between releases,
so a caller that knows the slot can call it without ONNX Runtime's header. This script reads a copy of
``include/onnxruntime/core/session/onnxruntime_c_api.h`` (any release: the slots we use are in the
"Version 1" part, which never changes), takes the body of ``struct OrtApi {``, drops comments and
preprocessor lines, splits it into member declarations at ';' and numbers them in order. A member is
one slot whatever its form: ``ORT_API2_STATUS(Name, ...)``, ``ORT_API(type, Name, ...)`` or
``ORT_API_T(type, Name, ...)`` (newer headers),
``ORT_CLASS_RELEASE(X)`` (named ReleaseX) or a plain function pointer ``ret (ORT_API_CALL* Name)(...)``.

Usage: python3 bindings/ort_api_index.py HEADER [NAME ...]   (no names: print every slot)
"""
import re
import sys


def slots(text: str):
    start = text.index("struct OrtApi {")
    body, depth, i = [], 0, text.index("{", start)
    for j in range(i, len(text)):  # the struct's body: up to the matching brace
        ch = text[j]
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            body = text[i + 1:j]
            break
    body = re.sub(r"/\*.*?\*/", " ", body, flags=re.S)
    body = re.sub(r"//[^\n]*", " ", body)
    body = "\n".join(ln for ln in body.splitlines() if not ln.lstrip().startswith("#"))
    names = []
    for decl in body.split(";"):
        d = " ".join(decl.split())
        if not d:
            continue
        m = (re.match(r"ORT_API2_STATUS\(\s*(\w+)", d) or re.match(r"ORT_API(?:_T)?\(\s*[^,]+,\s*(\w+)", d)
             or re.search(r"\(\s*ORT_API_CALL\s*\*\s*(\w+)\s*\)", d))
        if m:
            names.append(m.group(1))
            continue
        m = re.match(r"ORT_CLASS_RELEASE\(\s*(\w+)\s*\)", d)
        if m:
            names.append("Release" + m.group(1))
            continue
        raise ValueError(f"unrecognised OrtApi member: {d[:120]}")
    return names


def main(argv):
    names = slots(open(argv[1], encoding="utf-8").read())
    want = argv[2:] or names
    for n in want:
        print(f"{names.index(n):4d}  {n}" if n in names else f"   ?  {n} (not in this header)")


if __name__ == "__main__":
    main(sys.argv)
