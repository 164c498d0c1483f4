#!/usr/bin/env python3
"""A file of N demand records with a history, for benchmarks and their correctness tests.

    Scripts/generate-records.py N [OUT]     (OUT default: standard output; python3 only)

Each record is a labeled development contact of the corpus (Tests/ScreeningEngineTests/Corpus/dev)
given a new record id, a claimant and a time: one call every 30 seconds from 2026-01-01, so a file
of 100 000 records spans 35 days (past the 30-day windows); a pool of claimants that grows by one
every four calls, and three claimants who make one call in twenty (in a long file their 30-day
windows fill past the count limit); a third of the complaints
name one of 50 products, so the same complaint comes from many claimants (recurring issues). The
choice is seeded: the same N gives the same file, and a shorter file is the start of a longer one.
"""
import json
import pathlib
import random
import sys

CORPUS = pathlib.Path(__file__).resolve().parent.parent / "Tests/ScreeningEngineTests/Corpus/dev"
START_MS = 1767225600000  # 2026-01-01T00:00:00Z
STEP_MS = 30_000
HOT_CLAIMANTS = 3


def templates():
    records = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line)["record"])
    return records


def main():
    if len(sys.argv) not in (2, 3) or not sys.argv[1].isdigit() or int(sys.argv[1]) < 1:
        sys.exit("usage: generate-records.py N [OUT]   (N ≥ 1)")
    count = int(sys.argv[1])
    out = open(sys.argv[2], "w", encoding="utf-8") if len(sys.argv) == 3 else sys.stdout
    pool = templates()
    choose = random.Random(7)
    for index in range(count):
        record = dict(pool[choose.randrange(len(pool))])
        record["recordId"] = f"gen-{index}"
        if choose.random() < 0.05:
            record["claimantId"] = f"gen-hot-{choose.randrange(HOT_CLAIMANTS)}"
        else:
            record["claimantId"] = f"gen-c{choose.randrange(max(1, (index + 1) // 4 + 1))}"
        record["receivedAtUnixMs"] = str(START_MS + index * STEP_MS)
        incident = dict(record.get("incident", {}))
        incident["productKey"] = f"gen-p{choose.randrange(50)}" if choose.random() < 1 / 3 else ""
        record["incident"] = incident
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
