#!/usr/bin/python3
"""An independent NumPy implementation of the MGDL reference recipe.

It follows the recipe of the papers' public NumPy code as docs/EXPERIMENTS.md
describes it (Xavier-uniform initialisation from np.random.seed(seed) in every
grade, W drawn as out x in and then b; Adam with moments and step counter
reset per grade; minibatches of epoch e from
np.random.seed(seed + 1 + e).permutation(n), the last one smaller; squared
loss sum((y - yhat)^2) / (2m); learning rate max * exp(-gamma * e) with
gamma = ln(max/min) / epochs), with the examples' data drawn as the authors'
code draws them. It shares no code with mgdl; `mgdl train ... --rng numpy
--data-rng numpy` draws the same random numbers, so the two can be compared
step for step (bench/reference/README.md).

Usage:
  /usr/bin/python3 bench/reference/mgdl_numpy.py --example spectral2 \
      --epochs 300 --lr 1e-4 --seed 1 [--method sgdl] [--plus-one]

It prints one JSON object per grade (train/val/test RSE of the summed model).
Needs only NumPy (Debian: python3-numpy).
"""
import argparse
import json
import math
import time

import numpy as np


def spectral(setting, seed):
    """Fang & Xu (NeurIPS 2024) section 3.1 data, as the authors draw it."""
    kappa = np.linspace(10, 200, 20)
    phi = np.random.RandomState(seed - 1).uniform(0, 2 * np.pi, 40)
    train = np.arange(0, 1, 1.0 / 6000)
    val = np.random.RandomState(seed - 1).uniform(0, 1, 2000)
    test = np.random.RandomState(seed).uniform(0, 1, 2000)

    def f(x):
        y = np.zeros_like(x)
        for j in range(20):
            if setting == 1:
                a = 1.0
            elif setting == 2:
                a = np.linspace(1, 0.05, 20)[j]
            elif setting == 3:
                a = np.exp(-x) * np.cos(j * x)
            else:
                a = np.linspace(0.05, 1, 20)[j]
            y += a * np.sin(2 * np.pi * kappa[j] * x + phi[j])
        return y

    return [(x[None, :], f(x)[None, :]) for x in (train, val, test)]


def xu1(seed):
    """Xu (2023) example 1: sin(100x), train linspace(0,1,5000), test
    linspace(0,1,1000); no validation set."""
    train = np.linspace(0, 1, 5000)
    test = np.linspace(0, 1, 1000)
    return [(x[None, :], np.sin(100 * x)[None, :]) for x in (train, test)]


ACT = {
    "relu": (lambda z: np.maximum(0, z), lambda z: (z >= 0).astype(z.dtype)),
    "sin": (np.sin, np.cos),
}


def init(widths, seed):
    np.random.seed(seed)
    params = []
    for i in range(1, len(widths)):
        s = np.sqrt(1 / widths[i - 1])
        W = np.random.uniform(-1, 1, (widths[i], widths[i - 1])) * s
        b = np.random.uniform(-1, 1, (widths[i], 1)) * s
        params.append([W, b])
    return params


def forward(params, X, act):
    """Returns the output and the per-layer (input, pre-activation) pairs."""
    f = ACT[act][0]
    cache, H = [], X
    for i, (W, b) in enumerate(params):
        Z = W @ H + b
        cache.append((H, Z))
        H = Z if i == len(params) - 1 else f(Z)
    return H, cache


def hidden(params, X, act):
    """The last hidden layer's activations (the next grade's features)."""
    _, cache = forward(params, X, act)
    return cache[-1][0]


def grads(params, cache, out, Y, act):
    df = ACT[act][1]
    m = Y.shape[1]
    dH = (out - Y) / m
    g = [None] * len(params)
    for i in reversed(range(len(params))):
        H, Z = cache[i]
        dZ = dH if i == len(params) - 1 else dH * df(Z)
        W = params[i][0]
        g[i] = [dZ @ H.T, dZ.sum(axis=1, keepdims=True)]
        dH = W.T @ dZ
    return g


def fit(widths, act, X, Y, epochs, batch, lr_max, lr_min, seed, plus_one):
    params = init(widths, seed)
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    gamma = math.log(lr_max / lr_min) / epochs
    t = 0
    n = X.shape[1]
    for e in range(epochs + (1 if plus_one else 0)):
        lr = lr_max / math.exp(gamma * e)
        if batch and batch < n:
            np.random.seed(seed + 1 + e)
            perm = np.random.permutation(n)
            batches = [perm[k:k + batch] for k in range(0, n, batch)]
        else:
            batches = [slice(None)]
        for idx in batches:
            xb, yb = X[:, idx], Y[:, idx]
            out, cache = forward(params, xb, act)
            g = grads(params, cache, out, yb, act)
            t += 1
            for i, layer in enumerate(params):
                for k in range(2):
                    m[i][k] = 0.9 * m[i][k] + 0.1 * g[i][k]
                    v[i][k] = 0.999 * v[i][k] + 0.001 * g[i][k] ** 2
                    mh = m[i][k] / (1 - 0.9 ** t)
                    vh = v[i][k] / (1 - 0.999 ** t)
                    layer[k] = layer[k] - lr * mh / (np.sqrt(vh) + 1e-8)
    return params


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--example", default="spectral2")
    ap.add_argument("--method", default="mgdl", choices=["mgdl", "sgdl"])
    ap.add_argument("--epochs", default="300", help="one number or a comma list per grade")
    ap.add_argument("--lr", default="1e-4", help="max rate: one or a comma list")
    ap.add_argument("--lr-min", default=None, help="min rate (default: --lr, constant)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--grades", default=None, help="grade widths as JSON (default: the example's)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-seed", type=int, default=1)
    ap.add_argument("--plus-one", action="store_true",
                    help="run epochs+1 epochs per grade, as the authors' loop range(epochs+1) does")
    a = ap.parse_args()

    if a.example.startswith("spectral"):
        splits = spectral(int(a.example[-1]), a.data_seed)
        grades = [[1, 256, 256, 1]] + [[256, 256, 256, 1]] * (4 if a.example == "spectral4" else 3)
        acts = ["relu"] * len(grades)
    elif a.example == "xu1":
        splits = xu1(a.data_seed)
        grades = [[1, 256, 256, 1], [256, 128, 128, 64, 1], [64, 64, 32, 32, 1]]
        acts = ["sin", "relu", "relu"]
    else:
        raise SystemExit("unknown example %r (spectral1..4, xu1)" % a.example)

    if a.grades:
        grades = json.loads(a.grades)
        acts = (acts + acts[-1:] * len(grades))[:len(grades)]

    def per_grade(s, cast):
        vals = [cast(x) for x in s.split(",")]
        return vals if len(vals) == len(grades) else vals[:1] * len(grades)

    epochs = per_grade(a.epochs, int)
    lr_max = per_grade(a.lr, float)
    lr_min = per_grade(a.lr_min, float) if a.lr_min else lr_max
    if a.method == "sgdl":
        widths = [grades[0][0]] + [w for g in grades for w in g[1:-1]] + [grades[0][-1]]
        grades, acts = [widths], acts[:1]
        epochs, lr_max, lr_min = epochs[:1], lr_max[:1], lr_min[:1]

    feats = [x for x, _ in splits]
    resid = [y.copy() for _, y in splits]
    energy = [float(np.sum(y ** 2)) for _, y in splits]
    names = ["train", "val", "test"] if len(splits) == 3 else ["train", "test"]
    for l, (w, act) in enumerate(zip(grades, acts)):
        t0 = time.time()
        params = fit(w, act, feats[0], resid[0], epochs[l], a.batch, lr_max[l], lr_min[l], a.seed, a.plus_one)
        rec = {"grade": l + 1, "seconds": round(time.time() - t0, 2)}
        for k in range(len(splits)):
            out, _ = forward(params, feats[k], act)
            resid[k] = resid[k] - out
            feats[k] = hidden(params, feats[k], act)
            rec[names[k] + "_rse"] = float(np.sum(resid[k] ** 2)) / energy[k]
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
