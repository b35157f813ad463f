#!/usr/bin/env python3
"""Generates the scg-dedup benchmark corpus: N conversation records of about
500-700 bytes with planted near duplicates (word edits, reorderings,
truncations) and exact duplicates of earlier records.

usage: gen.py N CORPUS TRUTH [SEED]
TRUTH gets one line per planted record: "id<TAB>source id<TAB>kind".
The true Jaccard of each pair is left to check.py to compute."""
import json
import random
import sys


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


def record(rid, words):
    cut = len(words) * 2 // 5
    text_u = " ".join(words[:cut]).capitalize() + "?"
    text_a = " ".join(words[cut:]).capitalize() + "."
    return json.dumps({"id": rid, "messages": [
        {"role": "user", "content": text_u},
        {"role": "assistant", "content": text_a}]}, separators=(",", ":"))


def main():
    n = int(sys.argv[1])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    weights = [1.0 / (r + 10) for r in range(len(vocab))]
    cum = []
    total = 0.0
    for x in weights:
        total += x
        cum.append(total)
    recent = []   # base records that planted ones are made from
    with open(sys.argv[2], "w") as out, open(sys.argv[3], "w") as truth:
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
            else:
                words = rng.choices(vocab, cum_weights=cum, k=rng.randint(72, 100))
                if len(recent) < 50000:
                    recent.append((rid, words))
                else:
                    recent[rng.randrange(50000)] = (rid, words)
            out.write(record(rid, words) + "\n")


if __name__ == "__main__":
    main()
