#!/usr/bin/env python3
"""Brute-force checker for the scg-dedup benchmark. Independently of
scg-dedup's code it normalises the texts, builds the sets of word 5-grams
(as tuples of words, no hashing) and computes exact Jaccard similarities:

- recall: for a sample of planted pairs (TRUTH), the share of the planted
  records that were dropped, by the pair's true similarity;
- precision: for a sample of dropped records (DUPS), the share whose true
  similarity to the record named in dup_of is at least the threshold;
- near misses (gen.py --near-misses): for a sample, the range of their true
  similarity to their source and the share dropped (should be none).

usage: check.py CORPUS TRUTH DUPS KEPT [THRESHOLD] [SAMPLE]
Prints one line of key=value figures."""
import json
import random
import re
import sys

PUNCT = re.compile(r"[^\w\s]|_", re.ASCII)


def shingles(rec, n=5):
    text = " ".join(m.get("content", "") for m in rec.get("messages", []))
    words = PUNCT.sub("", text.lower()).split()
    if len(words) < n:
        return {tuple(words)}
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


def main():
    corpus, truth_path, dups_path, kept_path = sys.argv[1:5]
    t = float(sys.argv[5]) if len(sys.argv) > 5 else 0.8
    sample = int(sys.argv[6]) if len(sys.argv) > 6 else 20000
    rng = random.Random(7)

    dropped = {}
    with open(dups_path) as f:
        for line in f:
            r = json.loads(line)
            dropped[r["id"]] = (r["dup_of"], r["jaccard"])
    with open(kept_path) as f:
        nkept = sum(1 for _ in f)
    pairs = [line.rstrip("\n").split("\t") for line in open(truth_path)]
    misses = [p for p in pairs if p[2] == "near-miss"]
    pairs = [p for p in pairs if p[2] not in ("exact", "near-miss")]
    pairs = rng.sample(pairs, min(sample, len(pairs)))
    misses = rng.sample(misses, min(sample, len(misses)))
    drops = sorted(dropped.items())
    drops = rng.sample(drops, min(sample, len(drops)))

    need = set()
    for d, s, _ in pairs + misses:
        need.update((d, s))
    for d, (of, _) in drops:
        need.update((d, of))
    sets = {}
    nin = 0
    with open(corpus) as f:
        for line in f:
            nin += 1
            if '"id":"' not in line:
                continue
            rid = line[7:line.index('"', 7)]
            if rid in need:
                sets[rid] = shingles(json.loads(line))

    bins = {"ge90": [0, 0], "80to90": [0, 0], "70to80": [0, 0], "lt70": [0, 0]}
    for d, s, _ in pairs:
        j = jaccard(sets[d], sets[s])
        key = "ge90" if j >= 0.9 else "80to90" if j >= 0.8 else "70to80" if j >= 0.7 else "lt70"
        bins[key][0] += 1
        bins[key][1] += d in dropped
    good = 0
    err = []
    for d, (of, est) in drops:
        j = jaccard(sets[d], sets[of])
        good += j >= t - 1e-9
        err.append(est - j)
    out = {
        "records": nin, "kept": nkept, "dropped": len(dropped),
        "balanced": int(nkept + len(dropped) == nin),
    }
    for k, (n, hit) in bins.items():
        out["pairs_" + k] = n
        out["dropped_" + k] = "%.4f" % (hit / n if n else float("nan"))
    if misses:
        js = [jaccard(sets[d], sets[s]) for d, s, _ in misses]
        out["near_misses"] = len(misses)
        out["near_miss_j"] = "%.3f-%.3f" % (min(js), max(js))
        out["near_misses_dropped"] = "%.4f" % (sum(d in dropped for d, _, _ in misses) / len(misses))
    out["precision"] = "%.4f" % (good / len(drops) if drops else float("nan"))
    out["precision_sample"] = len(drops)
    if err:
        mean = sum(err) / len(err)
        out["jaccard_error_mean"] = "%.4f" % mean
        out["jaccard_error_sd"] = "%.4f" % (sum((e - mean) ** 2 for e in err) / len(err)) ** 0.5
    print(" ".join("%s=%s" % kv for kv in out.items()))


if __name__ == "__main__":
    main()
