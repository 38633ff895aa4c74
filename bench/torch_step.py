#!/usr/bin/env python3
"""PyTorch side of the mgdl comparison (bench/README.md).

Times, in PyTorch, the two workloads `mgdl bench --step` times:

  step   one full-batch training step of the MLP 1->256->256->256->1 (ReLU,
         MSE, Adam) on N=4096 points;
  epoch  one MGDL grade epoch at the papers' size: grade [256,256,256,1] on
         cached 256-wide features, N=6000, reshuffled minibatches of 256
         (24 Adam steps).

for float64 and float32, each as the best of --repeat runs after a warm-up.

PyTorch's speed on a small machine depends a lot on its thread settings (its
own intra-op threads against OpenBLAS's threads), so by default the script
tries every combination of torch threads in --torch-threads and BLAS threads
(OPENBLAS_NUM_THREADS and OMP_NUM_THREADS, which must be set before the
library loads, hence one child process per setting) in --blas-threads, and
reports, for each workload and dtype, the best time and the setting that
gave it. --json - prints the result as JSON on stdout.

Run it with the Python that has torch: /usr/bin/python3 on Debian
(apt-get install python3-torch).
"""

import argparse
import json
import os
import subprocess
import sys
import time

STEP_N = 4096
STEP_WIDTHS = [1, 256, 256, 256, 1]
EPOCH_N = 6000
EPOCH_BATCH = 256
EPOCH_WIDTHS = [256, 256, 256, 1]
LR = 1e-4


def child(args):
    """Measure in this process, with the thread setting already applied."""
    import torch

    torch.set_num_threads(args.torch_threads_now)
    torch.manual_seed(1)
    out = []
    for dtype_name in args.dtypes.split(","):
        dtype = {"float64": torch.float64, "float32": torch.float32}[dtype_name]
        for what in args.what.split(","):
            ms = measure(torch, dtype, what, args.repeat)
            out.append({"what": what, "dtype": dtype_name, "ms": ms})
    json.dump(
        {
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
            "results": out,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


def mlp(torch, widths, dtype):
    layers = []
    for i in range(len(widths) - 1):
        lin = torch.nn.Linear(widths[i], widths[i + 1]).to(dtype)
        # Xavier-uniform as in mgdl (nn.Xavier): U(-1,1)*sqrt(1/fan_in).
        s = (1.0 / widths[i]) ** 0.5
        with torch.no_grad():
            lin.weight.uniform_(-s, s)
            lin.bias.uniform_(-s, s)
        layers.append(lin)
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def measure(torch, dtype, what, repeat):
    """Best of repeat runs (ms) after one warm-up run."""
    if what == "step":
        net = mlp(torch, STEP_WIDTHS, dtype)
        x = torch.rand(STEP_N, 1, dtype=dtype)
        y = torch.rand(STEP_N, 1, dtype=dtype)
    else:
        net = mlp(torch, EPOCH_WIDTHS, dtype)
        # Cached features of the grades before: nonnegative (ReLU outputs).
        x = torch.rand(EPOCH_N, 256, dtype=dtype)
        y = torch.rand(EPOCH_N, 1, dtype=dtype)
    opt = torch.optim.Adam(net.parameters(), lr=LR)

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        # Σ(ŷ-y)²/(2m), mgdl's loss
        loss = ((net(xb) - yb) ** 2).sum() / (2 * xb.shape[0])
        loss.backward()
        opt.step()

    def run():
        if what == "step":
            step(x, y)
            return
        perm = torch.randperm(EPOCH_N)
        for i in range(0, EPOCH_N, EPOCH_BATCH):
            idx = perm[i : i + EPOCH_BATCH]
            step(x[idx], y[idx])

    run()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def parent(args):
    settings = [
        (int(t), int(b))
        for t in args.torch_threads.split(",")
        for b in args.blas_threads.split(",")
    ]
    best = {}  # (what, dtype) -> result
    tried = []
    version = ""
    for t, b in settings:
        env = dict(os.environ)
        env["OPENBLAS_NUM_THREADS"] = str(b)
        env["OMP_NUM_THREADS"] = str(b)
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--child",
            "--torch-threads-now",
            str(t),
            "--repeat",
            str(args.repeat),
            "--what",
            args.what,
            "--dtypes",
            args.dtypes,
        ]
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True)
        res = json.loads(p.stdout)
        version = res["torch"]
        for r in res["results"]:
            r = dict(r, torch_threads=t, blas_threads=b)
            tried.append(r)
            key = (r["what"], r["dtype"])
            if key not in best or r["ms"] < best[key]["ms"]:
                best[key] = r
            if not args.json_out or args.json_out != "-":
                print(
                    "  torch threads %d, BLAS threads %d: %-5s %s %8.1f ms"
                    % (t, b, r["what"], r["dtype"], r["ms"]),
                    file=sys.stderr,
                )
    doc = {
        "torch": version,
        "python": sys.version.split()[0],
        "repeat": args.repeat,
        "best": sorted(best.values(), key=lambda r: (r["what"], r["dtype"])),
        "tried": tried,
    }
    if args.json_out == "-":
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(doc, f, indent=1)
    print("PyTorch %s, best of %d after a warm-up, best thread setting" % (version, args.repeat))
    for r in doc["best"]:
        print(
            "%-5s %-7s %8.1f ms  (torch threads %d, BLAS threads %d)"
            % (r["what"], r["dtype"], r["ms"], r["torch_threads"], r["blas_threads"])
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=10, help="timed runs per measurement (best is kept)")
    ap.add_argument("--what", default="step,epoch", help="workloads: step, epoch or both")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--torch-threads", default="1,2", help="torch.set_num_threads values to try")
    ap.add_argument("--blas-threads", default="1,2", help="OPENBLAS_NUM_THREADS/OMP_NUM_THREADS values to try")
    ap.add_argument("--json", dest="json_out", default="", help="write JSON to this file (- for stdout)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--torch-threads-now", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
