#!/usr/bin/env python3
"""Does a "max-evidence" term help abuse detection? Measured on the train split only.

The candidate: a pseudo-feature for how many words of a fixed abusive lexicon (the stems that
evasion folding knows) a comment holds (0, 1, 2+), weighed as one more naive Bayes factor
P(bucket | class)^w, so one strong word counts the same in a long comment as in a short one.

Protocol: the train split is cut into 5 folds grouped by post (as `cv` does); the model is
trained with `comment-sieve train` on folds 1-4 and scores fold 0; P(bucket | class) is counted
on folds 1-4; macro-F1 on fold 0 is reported for each weight w (w = 0 is the model alone).

    python3 benches/max_evidence.py ../shared/corpus/comments.jsonl [path/to/comment-sieve]
"""
import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tempfile

STEMS = (
    "asshole bastard bitch bullshit cock crap cunt damn dick douche dumbass fag faggot fuck "
    "idiot jackass moron motherfucker nigga nigger penis piss prick pussy retard shit slut "
    "stupid twat wanker whore"
).split()
LEXICON = re.compile(r"\b(" + "|".join(STEMS) + ")", re.I)
LABELS = ["abusive", "off_topic", "substantive"]


def bucket(text):
    return min(len(LEXICON.findall(text)), 2)


def fold(row):
    key = row.get("post_id") or row["id"]
    return int(hashlib.md5(key.encode()).hexdigest(), 16) % 5


def macro_f1(pairs):
    scores = []
    for c in LABELS:
        tp = sum(1 for t, p in pairs if t == c and p == c)
        fp = sum(1 for t, p in pairs if t != c and p == c)
        fn = sum(1 for t, p in pairs if t == c and p != c)
        pr = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * pr * rc / (pr + rc) if pr + rc else 0.0)
    return sum(scores) / len(scores), scores


def main():
    corpus = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/comment-sieve"
    rows = [json.loads(line) for line in open(corpus, encoding="utf-8")]
    train = [r for r in rows if r.get("split") == "train"]
    fit = [r for r in train if fold(r) != 0]
    held = {r["id"]: r for r in train if fold(r) == 0}
    with tempfile.TemporaryDirectory() as tmp:
        fit_path = os.path.join(tmp, "fit.jsonl")
        held_path = os.path.join(tmp, "held.jsonl")
        model = os.path.join(tmp, "fit.model")
        scored = os.path.join(tmp, "held.out.jsonl")
        with open(fit_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in fit)
        with open(held_path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in held.values())
        subprocess.run([binary, "train", fit_path, "-o", model], check=True)
        subprocess.run([binary, "score", held_path, "--model", model, "-o", scored, "-q"], check=True)
        out = [json.loads(line) for line in open(scored, encoding="utf-8")]
    counts = {c: [1, 1, 1] for c in LABELS}  # Laplace
    for r in fit:
        counts[r["label"]][bucket(r["text"])] += 1
    p_bucket = {c: [n / sum(counts[c]) for n in counts[c]] for c in LABELS}
    print(f"fit {len(fit)} rows, held-out fold {len(held)} rows")
    print("P(lexicon words 0/1/2+ | class):",
          {c: [round(p, 3) for p in p_bucket[c]] for c in LABELS})
    # The problem itself: abusive comments holding a lexicon word, by length.
    for long in (False, True):
        hits = [o for o in out
                if held[o["id"]]["label"] == "abusive" and bucket(held[o["id"]]["text"]) > 0
                and (len(held[o["id"]]["text"]) > 300) == long]
        found = sum(1 for o in hits if o["label"] == "abusive")
        print(f"abusive with a lexicon word, {'over' if long else 'up to'} 300 characters: "
              f"{found} of {len(hits)} flagged ({found / max(len(hits), 1):.3f})")
    for w in (0.0, 0.25, 0.5, 0.75, 1.0, 1.5):
        pairs = []
        for o in out:
            r = held[o["id"]]
            b = bucket(r["text"])
            score = {c: math.log(max(o["probabilities"][c], 1e-300)) + w * math.log(p_bucket[c][b])
                     for c in LABELS}
            pairs.append((r["label"], max(score, key=score.get)))
        m, per = macro_f1(pairs)
        print(f"w {w:4}: macro-F1 {m:.4f}  F1 " + " ".join(f"{x:.4f}" for x in per))


if __name__ == "__main__":
    main()
