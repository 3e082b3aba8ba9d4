#!/usr/bin/env python3
"""Checks gpu_blastp's hits against the planted truth and against blastp.

Usage: verify.py --truth truth.tsv --ours q.ours.tsv [...] --blastp q.blastp.tsv [...]
                 [--summary summary.csv]

Checks (the issue's verification rules), per query:
  truth:   every planted homolog with actual identity >= 40% is reported by
           gpu_blastp with E-value <= 1e-3.
  overlap: the significant hit sets agree. A = subjects gpu_blastp reports
           with E <= 1e-3, B = the same for blastp; an element of A counts
           as matched if blastp reports that subject at all (E <= 10), and
           likewise for B; overlap = (matched A + matched B) / (|A| + |B|),
           required >= 0.95. (Near the reporting threshold E-values differ a
           little: blastp 2.12 applies Spouge's finite-size correction to
           its E-values, gpu_blastp plain Karlin-Altschul with BLAST's length
           adjustment, so a strict E <= 10 set comparison would measure noise.)
  bits:    for every subject significant in either and reported by both, the
           best bit scores differ by at most 2.
Prints one line per query and exits 1 if any check fails.
Standard library only.
"""
import argparse
import csv
import sys
from collections import defaultdict


def read_tabular(paths):
    """query -> subject -> (best bit score, best evalue)"""
    hits = defaultdict(dict)
    for path in paths:
        with open(path) as f:
            for line in f:
                if not line.strip() or line.startswith('#'):
                    continue
                cols = line.rstrip('\n').split('\t')
                if len(cols) != 12:
                    raise SystemExit(f'{path}: not -outfmt 6 (12 columns): {line!r}')
                q, s = cols[0], cols[1]
                evalue, bits = float(cols[10]), float(cols[11])
                old = hits[q].get(s)
                if old is None or bits > old[0]:
                    hits[q][s] = (bits, evalue)
    return hits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--truth', required=True)
    ap.add_argument('--ours', nargs='+', required=True)
    ap.add_argument('--blastp', nargs='+', required=True)
    ap.add_argument('--min-identity', type=float, default=40.0)
    ap.add_argument('--max-evalue', type=float, default=1e-3)
    ap.add_argument('--min-overlap', type=float, default=0.95)
    ap.add_argument('--max-bit-diff', type=float, default=2.0)
    ap.add_argument('--summary', help='write the per-query results as CSV')
    args = ap.parse_args()

    ours = read_tabular(args.ours)
    theirs = read_tabular(args.blastp)
    truth = defaultdict(list)
    with open(args.truth) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            truth[row['query']].append(row)

    queries = sorted(set(ours) | set(theirs) | {q for q in truth if q in ours or q in theirs},
                     key=lambda q: (len(q), q))
    failed = False
    rows = []
    for q in queries:
        o, t = ours.get(q, {}), theirs.get(q, {})
        # truth
        planted = [r for r in truth.get(q, []) if float(r['identity']) >= args.min_identity]
        missed = [r['subject'] for r in planted
                  if r['subject'] not in o or o[r['subject']][1] > args.max_evalue]
        blastp_missed = [r['subject'] for r in planted
                         if r['subject'] not in t or t[r['subject']][1] > args.max_evalue]
        # overlap
        a = {s for s, (_, e) in o.items() if e <= args.max_evalue}
        b = {s for s, (_, e) in t.items() if e <= args.max_evalue}
        matched = sum(1 for s in a if s in t) + sum(1 for s in b if s in o)
        overlap = matched / (len(a) + len(b)) if (a or b) else 1.0
        # bit scores
        both = [s for s in (a | b) if s in o and s in t]
        diffs = [abs(o[s][0] - t[s][0]) for s in both]
        max_diff = max(diffs) if diffs else 0.0
        ok = not missed and overlap >= args.min_overlap and max_diff <= args.max_bit_diff
        failed |= not ok
        print(f'{q}: {"ok" if ok else "FAIL"}: planted >= {args.min_identity:g}% found {len(planted) - len(missed)}/'
              f'{len(planted)} (blastp {len(planted) - len(blastp_missed)}/{len(planted)})'
              f'{" missed " + ",".join(missed) if missed else ""}; significant hits ours {len(a)} blastp {len(b)}, '
              f'overlap {overlap:.3f}; bit score max |diff| {max_diff:.1f} over {len(both)} subjects; '
              f'all hits ours {len(o)} blastp {len(t)}')
        rows.append({'query': q, 'ok': int(ok), 'planted': len(planted), 'found': len(planted) - len(missed),
                     'blastp_found': len(planted) - len(blastp_missed), 'significant_ours': len(a),
                     'significant_blastp': len(b), 'overlap': f'{overlap:.4f}', 'max_bit_diff': f'{max_diff:.1f}',
                     'compared_subjects': len(both), 'hits_ours': len(o), 'hits_blastp': len(t)})
    if not queries:
        print('no hits at all in either output: nothing verified', file=sys.stderr)
        failed = True
    if args.summary:
        with open(args.summary, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) if rows else ['query'])
            w.writeheader()
            w.writerows(rows)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
