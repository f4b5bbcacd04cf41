"""``edgeai info``: the CPU, the ISA chosen, and the kernel that runs for every format."""
import json


def add_parsers(sub) -> None:
    p = sub.add_parser("info", help="show CPU features and the kernels chosen for this machine")
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")
    p.add_argument("-m", "--model", help="also describe this language model (GGUF file, HF directory or hub id)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import cpu_info
    info = cpu_info()
    from .llm import model_info
    info["model"] = model_info(getattr(args, "model", None))
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"arch:      {info['arch']}")
    print(f"features:  {' '.join(info['features']) or '-'}")
    print(f"isa cap:   {info['isa_cap'] or 'none'}   best isa: {info['best_isa']}   threads: {info['num_threads']}")
    print("isas:      " + "  ".join(f"{i['name']}{'' if i['compiled'] else '(not built)'}"
                                    f"{'' if i['supported'] else '(unsupported)'}" for i in info["isas"]))
    print(f"{'format':8} {'dot':34} {'gemm':34}")
    for fmt, k in info["kernels"].items():
        if k.get("dot"):
            print(f"{fmt:8} {k['dot']:34} {k.get('gemm') or '-':34}")
    for key, val in info["model"].items():
        print(f"model {key + ':':16} {val}")
    return 0
