#!/usr/bin/env python3
"""Makes an obscured copy of the abusive test comments, to measure how much abuse detection
loses when abusive words are spelled to evade filters, and how much of it folding wins back.

  evasion_robustness.py CORPUS_JSONL OUT_JSONL

Every abusive test-split comment that contains one of the words below is written twice: as is
(id suffix `-plain`) and with each such word obscured (`-obscured`), in one of six styles taken
in turn: leetspeak (f4ck), masking (f*ck), spacing (f u c k), dots (f.u.c.k), stretching
(fuuuuck) and Cyrillic look-alike letters. Rows keep `label` and get `split` = `test`, so
`comment-sieve eval --split test OUT_JSONL` reports abusive recall on each half when filtered by
id; `benches/evasion_robustness.sh` does that for two models.
"""
import json, re, sys

WORDS = ["fuck", "fucking", "shit", "bitch", "idiot", "stupid", "moron", "asshole", "dick",
         "retard", "crap", "bastard", "whore", "slut", "damn", "pussy", "cunt", "dumbass"]
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
CYRILLIC = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "i": "і", "x": "х", "y": "у"}
PATTERN = re.compile(r"\b(" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")\b", re.I)


def obscure(word, style):
    w = word.lower()
    if style == 0:  # leetspeak: every vowel or s/t that has a digit twin, but not the first letter
        return w[0] + "".join(LEET.get(c, c) for c in w[1:])
    if style == 1:  # masking: the inner letters after the second become stars
        return w[:1] + "*" * (len(w) - 2) + w[-1] if len(w) <= 4 else w[:2] + "*" * (len(w) - 4) + w[-2:]
    if style == 2:
        return " ".join(w)
    if style == 3:
        return ".".join(w)
    if style == 4:  # stretching: the first vowel five times
        m = re.search(r"[aeiou]", w)
        return w if not m else w[: m.start()] + m.group() * 5 + w[m.end():]
    return "".join(CYRILLIC.get(c, c) for c in w)


def main():
    corpus, out = sys.argv[1:3]
    n = 0
    with open(corpus, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
        for line in f:
            r = json.loads(line)
            if r.get("split") != "test" or r.get("label") != "abusive" or not PATTERN.search(r["text"]):
                continue
            style = n % 6
            n += 1
            obscured = PATTERN.sub(lambda m: obscure(m.group(1), style), r["text"])
            for suffix, text in (("plain", r["text"]), ("obscured", obscured)):
                o.write(json.dumps({"id": f"{r['id']}-{suffix}", "text": text, "label": "abusive",
                                    "split": "test", "style": style}, ensure_ascii=False) + "\n")
    print(f"{n} abusive test comments with a listed word, written twice to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
