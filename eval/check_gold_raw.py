#!/usr/bin/env python3
"""Self-check for eval/dev.jsonl against the raw corpus (stdlib only).

For every line of eval/dev.jsonl it checks:
  * all fields present and correctly typed, allowed values for lang / kind / doc;
  * ids unique;
  * every gold quote, normalised (NFKC, then all whitespace removed), is a
    substring of the normalised raw document;
  * (strict) the quote does not cross a noise boundary of the raw text: a lone
    page-number line, the sidebar injected into opinion-2022, a heading printed
    twice, a "（下转 41 页）" marker, a table-of-contents line, or a table cell
    boundary (tab);
  * every must_contain string is inside the normalised text of at least one gold
    quote;
  * answerable <=> gold non-empty (and unanswerable => must_contain empty,
    kind "unanswerable").
It prints counts by lang, kind, doc and answerability, then every failure.
Exit status 0 when there is no failure, 1 otherwise.

Usage: python3 eval/check_gold_raw.py [--dev PATH] [--corpus DIR]
"""
import argparse
import collections
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DEV = os.path.join(HERE, "dev.jsonl")
DEFAULT_CORPUS = "/work/shared/corpus"

DOC_FILES = {
    "guiding-opinion-2017": "000_1452999b72b2317d.txt",
    "opinion-2022": "001_e0592d9261ab88da.txt",
    "eco-cooperation-plan-2017": "002_fe3a082f46d26a91.txt",
    "strategy-framework-paper": "003_81bdedb987464fa5.txt",
    "progress-report-2023": "004_2147d902607a0425.txt",
}
KINDS = {"factoid", "explanatory", "list", "multi_doc", "table", "box",
         "chronology", "abstract", "unanswerable"}
LANGS = {"zh", "en"}
FIELDS = {
    "id": str, "lang": str, "question": str, "answerable": bool, "gold": list,
    "answer": str, "must_contain": list, "kind": str,
}

_WS = re.compile(r"\s+")


def normalise(s):
    return _WS.sub("", unicodedata.normalize("NFKC", s))


def _is_doubled_heading(line):
    n = normalise(line)
    if len(n) < 4:
        return False
    for cand in (n, re.sub(r"^(\d+\.)+", "", n)):
        half = len(cand) // 2
        if len(cand) % 2 == 0 and half >= 2 and cand[:half] == cand[half:]:
            return True
    return False


def noise_segments(raw):
    """Split a raw text into clean segments separated by noise boundaries.

    A quote must be contained (after normalisation) in a single segment.
    """
    lines = raw.split("\n")
    segments, cur = [], []
    in_sidebar = False

    def flush():
        if cur:
            segments.append("\n".join(cur))
            cur.clear()

    for line in lines:
        s = line.strip()
        # sidebar injected into opinion-2022 (排行榜 ... 相关解读 ... 一图读懂)
        if s == "排行榜":
            in_sidebar = True
        if in_sidebar:
            flush()
            if s.startswith("一图读懂"):
                in_sidebar = False
            continue
        if re.fullmatch(r"\d{1,3}", s):          # lone page number
            flush()
            continue
        if "下转" in s:                           # jump marker
            flush()
            continue
        if "....." in s or s == "目录":           # table of contents
            flush()
            continue
        if _is_doubled_heading(s):                # heading printed twice
            flush()
            continue
        if "\t" in line:                          # table row: one segment per cell
            flush()
            for cell in line.split("\t"):
                if cell.strip():
                    segments.append(cell)
            continue
        cur.append(line)
    flush()
    return [normalise(seg) for seg in segments]


def load_corpus(corpus_dir):
    raw, norm, segs = {}, {}, {}
    for doc, fn in DOC_FILES.items():
        with open(os.path.join(corpus_dir, fn), encoding="utf-8") as f:
            text = f.read()
        raw[doc] = text
        norm[doc] = normalise(text)
        segs[doc] = noise_segments(text)
    return raw, norm, segs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev", default=DEFAULT_DEV)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    args = ap.parse_args()

    _, norm, segs = load_corpus(args.corpus)
    failures = []
    by_lang, by_kind, by_doc, by_ans = (collections.Counter() for _ in range(4))
    by_doc_primary = collections.Counter()
    seen_ids = set()
    n = 0

    with open(args.dev, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                failures.append(f"line {lineno}: blank line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                failures.append(f"line {lineno}: invalid JSON: {e}")
                continue
            n += 1
            rid = rec.get("id", f"<line {lineno}>")
            tag = f"{rid} (line {lineno})"
            bad = False
            for k, t in FIELDS.items():
                if k not in rec:
                    failures.append(f"{tag}: missing field {k!r}")
                    bad = True
                elif not isinstance(rec[k], t):
                    failures.append(f"{tag}: field {k!r} should be {t.__name__}")
                    bad = True
            extra = set(rec) - set(FIELDS)
            if extra:
                failures.append(f"{tag}: unexpected fields {sorted(extra)}")
            if bad:
                continue
            if rid in seen_ids:
                failures.append(f"{tag}: duplicate id")
            seen_ids.add(rid)
            if rec["lang"] not in LANGS:
                failures.append(f"{tag}: bad lang {rec['lang']!r}")
            if rec["kind"] not in KINDS:
                failures.append(f"{tag}: bad kind {rec['kind']!r}")
            for k in ("question", "answer"):
                if not rec[k].strip():
                    failures.append(f"{tag}: empty {k}")
            if not all(isinstance(m, str) and m.strip() for m in rec["must_contain"]):
                failures.append(f"{tag}: must_contain entries must be non-empty strings")
                continue

            by_lang[rec["lang"]] += 1
            by_kind[rec["kind"]] += 1
            by_ans["answerable" if rec["answerable"] else "unanswerable"] += 1

            gold = rec["gold"]
            if rec["answerable"] != bool(gold):
                failures.append(f"{tag}: answerable={rec['answerable']} but "
                                f"{len(gold)} gold entries")
            if not rec["answerable"]:
                if rec["must_contain"]:
                    failures.append(f"{tag}: unanswerable with must_contain")
                if rec["kind"] != "unanswerable":
                    failures.append(f"{tag}: unanswerable but kind {rec['kind']!r}")
            else:
                if rec["kind"] == "unanswerable":
                    failures.append(f"{tag}: answerable but kind 'unanswerable'")
                if not rec["must_contain"]:
                    failures.append(f"{tag}: answerable with empty must_contain")
                if len(rec["must_contain"]) > 3:
                    failures.append(f"{tag}: more than 3 must_contain strings")

            docs_here = []
            gold_norm = []
            for gi, g in enumerate(gold):
                if not (isinstance(g, dict) and isinstance(g.get("doc"), str)
                        and isinstance(g.get("quote"), str) and set(g) == {"doc", "quote"}):
                    failures.append(f"{tag}: gold[{gi}] must be {{doc: str, quote: str}}")
                    continue
                doc, quote = g["doc"], g["quote"]
                if doc not in DOC_FILES:
                    failures.append(f"{tag}: gold[{gi}] unknown doc {doc!r}")
                    continue
                nq = normalise(quote)
                gold_norm.append(nq)
                if doc not in docs_here:
                    docs_here.append(doc)
                if not nq:
                    failures.append(f"{tag}: gold[{gi}] empty quote")
                    continue
                if nq not in norm[doc]:
                    where = [d for d in DOC_FILES if nq in norm[d]]
                    hint = f" (found in {where})" if where else ""
                    failures.append(f"{tag}: gold[{gi}] quote not in {doc}{hint}: {quote!r}")
                elif not any(nq in s for s in segs[doc]):
                    failures.append(f"{tag}: gold[{gi}] quote crosses a noise boundary "
                                    f"(page number / sidebar / doubled heading / jump "
                                    f"marker / TOC / table cell) in {doc}: {quote!r}")
            for m in rec["must_contain"]:
                nm = normalise(m)
                if not any(nm in q for q in gold_norm):
                    failures.append(f"{tag}: must_contain {m!r} not in any gold quote")
            if rec["kind"] == "multi_doc" and len(docs_here) < 2 and rec["answerable"]:
                # allowed: same fact stated twice with different values in one doc
                pass
            for d in docs_here:
                by_doc[d] += 1
            if docs_here:
                by_doc_primary[docs_here[0]] += 1

    def table(title, counter, total=None):
        print(f"\n{title}")
        width = max([len(k) for k in counter] + [8])
        for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            pct = f"  {100.0 * v / total:5.1f}%" if total else ""
            print(f"  {k:<{width}}  {v:4d}{pct}")

    print(f"records: {n}")
    table("by answerability", by_ans, n)
    table("by lang", by_lang, n)
    table("by kind", by_kind, n)
    n_ans = by_ans.get("answerable", 0)
    table("by doc (answerable questions citing the doc; multi-doc counted per doc)",
          by_doc, sum(by_doc.values()))
    table("by doc (first gold doc of each answerable question)", by_doc_primary, n_ans)
    lang_ans = collections.Counter()
    with open(args.dev, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
                lang_ans[f"{r['lang']}/{'ans' if r['answerable'] else 'na'}"] += 1
            except Exception:
                pass
    table("by lang x answerability", lang_ans, n)

    print(f"\nfailures: {len(failures)}")
    for fl in failures:
        print("  FAIL " + fl)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
