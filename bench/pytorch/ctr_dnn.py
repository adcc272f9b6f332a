#!/usr/bin/python3
"""PyTorch baseline for colony's CTR models: logistic regression and a DNN on Criteo-format TSV.

Reads train.txt / test.txt exactly as colony's Criteo reader does (docs/data.md):
  label, 13 integer features -> log1p(max(x, 0)) with empty -> 0,
  26 categorical strings -> one id per (slot, value); the empty value is a value of its own.
Categorical values are indexed with a dictionary of the values seen in train.txt (index 0 of
each slot is "unseen in train"). Everything is tensorized before training, so the samples/s
figure counts only the training loop (forward, backward, optimizer step), not parsing.

  /usr/bin/python3 bench/pytorch/ctr_dnn.py --data DIR [--epochs 3] [--summary-json out.json]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn

NUM_DENSE = 13
NUM_SLOTS = 26


def read_criteo(path, vocabs, grow):
    labels, dense, sparse = [], [], []
    bad = 0
    with open(path, "r") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 1 + NUM_DENSE + NUM_SLOTS:
                bad += 1
                continue
            try:
                label = int(fields[0])
                row = [math.log1p(max(int(v), 0)) if v else 0.0 for v in fields[1:1 + NUM_DENSE]]
            except ValueError:
                bad += 1
                continue
            ids = []
            for s, v in enumerate(fields[1 + NUM_DENSE:]):
                vocab = vocabs[s]
                idx = vocab.get(v)
                if idx is None:
                    if grow:
                        idx = len(vocab) + 1
                        vocab[v] = idx
                    else:
                        idx = 0
                ids.append(idx)
            labels.append(label)
            dense.append(row)
            sparse.append(ids)
    return (torch.tensor(labels, dtype=torch.float32), torch.tensor(dense, dtype=torch.float32),
            torch.tensor(sparse, dtype=torch.int64), bad)


def auc(scores, labels):
    """Exact AUC with tied scores sharing their average rank (as colony::Auc)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels) > 0.5
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0
    ranks = average_rank[inverse]
    pos = labels.sum()
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return 0.5
    return float((ranks[labels].sum() - pos * (pos + 1) / 2.0) / (pos * neg))


def logloss(probs, labels):
    p = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(labels, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


class LR(nn.Module):
    def __init__(self, total_ids):
        super().__init__()
        self.weights = nn.Embedding(total_ids, 1)
        nn.init.zeros_(self.weights.weight)
        self.dense = nn.Linear(NUM_DENSE, 1)

    def forward(self, dense, ids):
        return self.weights(ids).sum(dim=(1, 2)) + self.dense(dense).squeeze(1)


class DNN(nn.Module):
    def __init__(self, total_ids, dim, hidden, emb_std, sparse=False):
        super().__init__()
        self.embedding = nn.Embedding(total_ids, dim, sparse=sparse)
        if sparse:  # As colony's tables: rows uniform in +-0.01.
            nn.init.uniform_(self.embedding.weight, -0.01, 0.01)
        else:
            nn.init.normal_(self.embedding.weight, std=emb_std)
        layers, width = [], NUM_SLOTS * dim + NUM_DENSE
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, dense, ids):
        e = self.embedding(ids).flatten(1)
        return self.mlp(torch.cat([e, dense], dim=1)).squeeze(1)


class MultiOptimizer:
    """Steps several optimizers as one (sparse Adagrad embeddings + Adam MLP, as colony)."""

    def __init__(self, *optimizers):
        self.optimizers = optimizers
        self.param_groups = [g for o in optimizers for g in o.param_groups]

    def zero_grad(self, set_to_none=True):
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def step(self):
        for o in self.optimizers:
            o.step()


def predict(model, dense, ids, batch):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(dense), 8192):
            out.append(torch.sigmoid(model(dense[i:i + 8192], ids[i:i + 8192])))
    model.train()
    return torch.cat(out).numpy()


def train(name, model, optimizer, data, args):
    (y, xd, xs), (ty, txd, txs) = data
    loss_fn = nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(args.seed)
    train_seconds, samples = 0.0, 0
    history = []
    for epoch in range(args.epochs):
        if epoch > 0:
            for group in optimizer.param_groups:
                group["lr"] *= args.lr_decay
        perm = torch.randperm(len(y), generator=g)
        ys, xds, xss = y[perm], xd[perm], xs[perm]  # Shuffled copy, outside the timed loop.
        start = time.perf_counter()
        for i in range(0, len(ys), args.batch_size):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xds[i:i + args.batch_size], xss[i:i + args.batch_size]),
                           ys[i:i + args.batch_size])
            loss.backward()
            optimizer.step()
        train_seconds += time.perf_counter() - start
        samples += len(ys)
        p = predict(model, txd, txs, args.batch_size)
        a, l = auc(p, ty.numpy()), logloss(p, ty.numpy())
        history.append({"epoch": epoch + 1, "test_auc": a, "test_logloss": l})
        print(f"{name} epoch {epoch + 1}: test AUC {a:.4f} logloss {l:.4f} "
              f"| {samples / train_seconds:.0f} samples/s", flush=True)
    return {"test_auc": history[-1]["test_auc"], "test_logloss": history[-1]["test_logloss"],
            "samples_per_sec": samples / train_seconds, "train_seconds": train_seconds,
            "epochs": history}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True, help="folder with train.txt, test.txt (truth.json)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--dim", type=int, default=16, help="embedding width")
    ap.add_argument("--hidden", default="256,128")
    ap.add_argument("--emb-std", type=float, default=0.1, help="embedding init standard deviation")
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate of the DNN")
    ap.add_argument("--lr-decay", type=float, default=1.0,
                    help="multiplies the learning rates after each epoch")
    ap.add_argument("--lr-lr", type=float, default=0.05, help="Adagrad learning rate of LR")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--models", default="lr,dnn")
    ap.add_argument("--sparse-adagrad", type=float, default=0.0,
                    help="if > 0: sparse embedding gradients with Adagrad at this rate, Adam "
                         "for the MLP, rows uniform +-0.01 (colony's examples/ctr setup)")
    ap.add_argument("--summary-json", default="")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    vocabs = [dict() for _ in range(NUM_SLOTS)]
    y, xd, xs, bad_train = read_criteo(os.path.join(args.data, "train.txt"), vocabs, True)
    ty, txd, txs, bad_test = read_criteo(os.path.join(args.data, "test.txt"), vocabs, False)
    # One table for all slots: slot s owns rows [offset[s], offset[s] + len(vocab[s]) + 1).
    sizes = torch.tensor([len(v) + 1 for v in vocabs])
    offsets = torch.cumsum(sizes, 0) - sizes
    xs, txs = xs + offsets, txs + offsets
    total_ids = int(sizes.sum())
    print(f"loaded {len(y)} train + {len(ty)} test rows ({bad_train + bad_test} bad), "
          f"{total_ids} ids, in {time.perf_counter() - t0:.1f} s; {args.threads} threads",
          flush=True)
    data = ((y, xd, xs), (ty, txd, txs))

    summary = {"train_rows": len(y), "test_rows": len(ty), "threads": args.threads,
               "batch_size": args.batch_size, "torch": torch.__version__}
    truth_path = os.path.join(args.data, "truth.json")
    if os.path.exists(truth_path):
        with open(truth_path) as f:
            summary["bayes_auc"] = json.load(f)["bayes_auc"]
        print(f"bayes_auc {summary['bayes_auc']:.4f}")
    models = args.models.split(",")
    if "lr" in models:
        model = LR(total_ids)
        opt = torch.optim.Adagrad(model.parameters(), lr=args.lr_lr)
        summary["lr"] = train("lr", model, opt, data, args)
    if "dnn" in models:
        hidden = [int(h) for h in args.hidden.split(",") if h]
        sparse = args.sparse_adagrad > 0
        model = DNN(total_ids, args.dim, hidden, args.emb_std, sparse)
        if sparse:
            opt = MultiOptimizer(
                torch.optim.Adagrad([model.embedding.weight], lr=args.sparse_adagrad),
                torch.optim.Adam(model.mlp.parameters(), lr=args.lr))
        else:
            opt = torch.optim.Adam(model.parameters(), lr=args.lr)
        summary["dnn"] = train("dnn", model, opt, data, args)
        summary["dnn"].update({"dim": args.dim, "hidden": hidden})
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump(summary, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
