#!/usr/bin/python3
"""PyTorch baseline for colony's SR-GNN: the same model, data and optimizer, written the way the
public SR-GNN PyTorch implementation is (padded per-session graphs, dense adjacency matrices).

Reads colony session files (train.txt / test.txt: one session of item ids a line), augments them
into (prefix, next item) samples like colony (docs/session.md), keeps the last --max-length
clicks, and trains SR-GNN with position embeddings (forward position of each node's last click)
with Adam. The samples/s figure counts the training loop including the per-batch graph building
(numpy), as colony's figure includes its feeder.

  /usr/bin/python3 bench/pytorch/srgnn.py --data DIR [--epochs 1] [--summary-json out.json]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn


def read_sessions(path):
    sessions = []
    with open(path) as f:
        for line in f:
            items = [int(t) for t in line.replace(",", " ").split()]
            if len(items) >= 2:
                sessions.append(items)
    return sessions


def prefixes(sessions, max_length):
    seqs, targets = [], []
    for s in sessions:
        for p in range(1, len(s)):
            seqs.append(s[max(0, p - max_length):p])
            targets.append(s[p])
    return seqs, np.array(targets, dtype=np.int64)


def make_batch(seqs, max_position):
    """Padded node lists, normalized in/out adjacency, alias indices and masks (reference style)."""
    lens = [len(s) for s in seqs]
    max_len = max(lens)
    nodes = [list(dict.fromkeys(s)) for s in seqs]
    max_n = max(len(n) for n in nodes)
    items = np.zeros((len(seqs), max_n), dtype=np.int64)
    pos = np.zeros((len(seqs), max_n), dtype=np.int64)
    a_in = np.zeros((len(seqs), max_n, max_n), dtype=np.float32)
    alias = np.zeros((len(seqs), max_len), dtype=np.int64)
    mask = np.zeros((len(seqs), max_len), dtype=np.float32)
    for b, (s, n) in enumerate(zip(seqs, nodes)):
        index = {item: i for i, item in enumerate(n)}
        items[b, :len(n)] = n
        for t, item in enumerate(s):
            alias[b, t] = index[item]
            pos[b, index[item]] = min(t, max_position - 1)
        mask[b, :len(s)] = 1
        for t in range(len(s) - 1):
            a_in[b, index[s[t + 1]], index[s[t]]] = 1  # row v, column u for u -> v
    a_out = a_in.transpose(0, 2, 1).copy()
    a_in /= np.maximum(a_in.sum(2, keepdims=True), 1)
    a_out /= np.maximum(a_out.sum(2, keepdims=True), 1)
    last = np.array([alias[b, l - 1] for b, l in enumerate(lens)], dtype=np.int64)
    return [torch.from_numpy(x) for x in (items, pos, a_in, a_out, alias, mask, last)]


class SRGNN(nn.Module):
    def __init__(self, num_items, dim, steps, max_position):
        super().__init__()
        self.steps = steps
        self.emb = nn.Embedding(num_items + 1, dim)
        self.pos = nn.Embedding(max_position, dim)
        self.edge_in = nn.Linear(dim, dim)
        self.edge_out = nn.Linear(dim, dim)
        self.gru = nn.GRUCell(2 * dim, dim)
        self.w1 = nn.Linear(dim, dim, bias=False)
        self.w2 = nn.Linear(dim, dim)
        self.q = nn.Linear(dim, 1, bias=False)
        self.w3 = nn.Linear(2 * dim, dim, bias=False)
        bound = 1.0 / math.sqrt(dim)
        for w in (self.emb.weight, self.pos.weight):
            nn.init.uniform_(w, -bound, bound)

    def forward(self, items, pos, a_in, a_out, alias, mask, last):
        h = self.emb(items) + self.pos(pos)  # [B, n, d]
        b, n, d = h.shape
        for _ in range(self.steps):
            m = torch.cat([torch.matmul(a_in, self.edge_in(h)),
                           torch.matmul(a_out, self.edge_out(h))], 2)
            h = self.gru(m.view(b * n, 2 * d), h.reshape(b * n, d)).view(b, n, d)
        seq = torch.gather(h, 1, alias.unsqueeze(2).expand(-1, -1, d))  # [B, T, d]
        ht = h[torch.arange(b), last]  # [B, d]
        alpha = self.q(torch.sigmoid(self.w1(ht).unsqueeze(1) + self.w2(seq)))  # [B, T, 1]
        a = (alpha * seq * mask.unsqueeze(2)).sum(1)
        s = self.w3(torch.cat([a, ht], 1))
        return s @ self.emb.weight.t()  # [B, N + 1]


def evaluate(model, seqs, targets, args):
    model.eval()
    hits = rr = 0.0
    with torch.no_grad():
        for i in range(0, len(seqs), 512):
            scores = model(*make_batch(seqs[i:i + 512], args.max_position))
            scores[:, 0] = -math.inf
            top = scores.topk(20, 1).indices.numpy()
            for row, target in zip(top, targets[i:i + 512]):
                where = np.nonzero(row == target)[0]
                if len(where):
                    hits += 1
                    rr += 1.0 / (where[0] + 1)
    model.train()
    return hits / len(seqs), rr / len(seqs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=20)
    ap.add_argument("--max-position", type=int, default=20)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--summary-json", default="")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train = read_sessions(os.path.join(args.data, "train.txt"))
    test = read_sessions(os.path.join(args.data, "test.txt"))
    num_items = max(max(max(s) for s in train), max(max(s) for s in test))
    seqs, targets = prefixes(train, args.max_length)
    test_seqs, test_targets = prefixes(test, args.max_length)
    model = SRGNN(num_items, args.dim, args.steps, args.max_position)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    samples, loss_sum, steps = 0, 0.0, 0
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(seqs))
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            batch = make_batch([seqs[j] for j in idx], args.max_position)
            loss = loss_fn(model(*batch), torch.from_numpy(targets[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            samples += len(idx)
            loss_sum += loss.item()
            steps += 1
    seconds = time.perf_counter() - start
    p20, mrr20 = evaluate(model, test_seqs, test_targets, args)
    summary = {"samples_per_sec": samples / seconds, "samples": samples, "seconds": seconds,
               "train_loss": loss_sum / max(steps, 1), "p20": p20, "mrr20": mrr20,
               "num_items": num_items, "threads": args.threads}
    print(json.dumps(summary))
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump(summary, f)


if __name__ == "__main__":
    main()
