#!/usr/bin/env python3
"""Generates the scg-dedup benchmark corpus: N conversation records of about
500-700 bytes with planted near duplicates (word edits, reorderings,
truncations) and exact duplicates of earlier records; with --near-misses P,
a share P of the records also overlaps an earlier record at a Jaccard
similarity drawn from [0.3, 0.8) (a block of its words kept, the rest
new): pairs that LSH makes candidates and the exact check must reject.

usage: gen.py [--near-misses P] N CORPUS TRUTH [SEED]
TRUTH gets one line per planted record: "id<TAB>source id<TAB>kind".
The true Jaccard of each pair is left to check.py to compute."""
import argparse
import json
import random


def vocabulary(rng, n=20000):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))))
    words = sorted(words)
    rng.shuffle(words)
    return words


def edit(rng, words, vocab, cum):
    """Returns (new words, kind): a planted near duplicate of words."""
    w = list(words)
    kind = rng.choice(["edit", "edit", "edit", "reorder", "truncate", "mixed"])
    if kind in ("edit", "mixed"):
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(w))
            if op < 0.5:
                w[i] = rng.choices(vocab, cum_weights=cum)[0]
            elif op < 0.75:
                w.insert(i, rng.choices(vocab, cum_weights=cum)[0])
            elif len(w) > 10:
                del w[i]
    if kind in ("reorder", "mixed"):
        # move one sentence-sized block elsewhere
        a = rng.randrange(len(w) - 12)
        b = a + rng.randint(6, 12)
        block, rest = w[a:b], w[:a] + w[b:]
        j = rng.randrange(len(rest) + 1)
        w = rest[:j] + block + rest[j:]
    if kind == "truncate":
        w = w[: len(w) - rng.randint(2, len(w) // 4)]
    return w, kind


def shingles(words):
    return {tuple(words[i:i + 5]) for i in range(len(words) - 4)}


def near_miss(rng, words, vocab, cum):
    """Returns words sharing one block with the given ones, sized for a
    Jaccard similarity of word 5-grams drawn from [0.3, 0.8)."""
    have = shingles(words)
    while True:
        j = rng.uniform(0.3, 0.8)
        m = rng.randint(72, 100)
        # shared shingles s of na - 4 and m - 4: j = s / (na + m - 8 - s)
        shared = int(round(j * (len(words) + m - 8) / (1 + j)))
        block = min(shared + 4, len(words), m)
        a = rng.randrange(len(words) - block + 1)
        fresh = rng.choices(vocab, cum_weights=cum, k=m - block)
        cut = rng.randint(0, len(fresh))
        w = fresh[:cut] + words[a:a + block] + fresh[cut:]
        mine = shingles(w)
        if 0.3 <= len(have & mine) / len(have | mine) < 0.8:
            return w


def record(rid, words):
    cut = len(words) * 2 // 5
    text_u = " ".join(words[:cut]).capitalize() + "?"
    text_a = " ".join(words[cut:]).capitalize() + "."
    return json.dumps({"id": rid, "messages": [
        {"role": "user", "content": text_u},
        {"role": "assistant", "content": text_a}]}, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--near-misses", type=float, default=0.0)
    ap.add_argument("n", type=int)
    ap.add_argument("corpus")
    ap.add_argument("truth")
    ap.add_argument("seed", type=int, nargs="?", default=1)
    args = ap.parse_args()
    n, near = args.n, args.near_misses
    rng = random.Random(args.seed)
    vocab = vocabulary(rng)
    weights = [1.0 / (r + 10) for r in range(len(vocab))]
    cum = []
    total = 0.0
    for x in weights:
        total += x
        cum.append(total)
    recent = []   # base records that planted ones are made from
    with open(args.corpus, "w") as out, open(args.truth, "w") as truth:
        for i in range(n):
            rid = "r%07d" % i
            r = rng.random()
            if recent and r < 0.25:
                src_id, src = rng.choice(recent)
                words, kind = edit(rng, src, vocab, cum)
                truth.write("%s\t%s\t%s\n" % (rid, src_id, kind))
            elif recent and r < 0.28:
                src_id, src = rng.choice(recent)
                words, kind = list(src), "exact"
                truth.write("%s\t%s\t%s\n" % (rid, src_id, kind))
            elif recent and r < 0.28 + near:
                src_id, src = rng.choice(recent)
                words = near_miss(rng, src, vocab, cum)
                truth.write("%s\t%s\tnear-miss\n" % (rid, src_id))
            else:
                words = rng.choices(vocab, cum_weights=cum, k=rng.randint(72, 100))
                if len(recent) < 50000:
                    recent.append((rid, words))
                else:
                    recent[rng.randrange(50000)] = (rid, words)
            out.write(record(rid, words) + "\n")


if __name__ == "__main__":
    main()
