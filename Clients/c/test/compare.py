#!/usr/bin/env python3
"""Helpers of interop.sh for comparing the C client's results with the Swift CLI's.

  compare.py prepare PREFIX OUT FILE...
      Writes every DemandRecord of FILEs (.json: one record; .jsonl: one per line) to OUT as JSON
      lines, with PREFIX put before its record id, claimant id and incident product key, so that
      each screening pass is a set of new contacts of new claimants about new products: a record
      id seen before would be answered with the stored result (idempotency), and a claimant or a
      product seen before would raise history signals (repeated contact, recurring issue).
      Spellings are kept as they are (recordId or record_id), so the JSON mapping is exercised.

  compare.py canon PREFIX RESULTS OUT
      Reads ScreeningResults as JSON lines (a client's output), takes PREFIX off each record id,
      and writes them sorted by record id, one canonical JSON text per line (sorted keys; numbers
      as Python reads them), so that two clients' outputs can be diffed whatever their order.
      Fails when a line is not a result or a record id lacks the prefix.
"""
import json
import sys


def records(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return [json.loads(text)]


def prefix_field(obj, names, prefix, default=None):
    for name in names:
        if name in obj and obj[name] is not None:
            obj[name] = prefix + obj[name]
            return
    if default is not None:
        obj[names[0]] = prefix + default


def prepare(prefix, out, files):
    count = 0
    with open(out, "w", encoding="utf-8") as f:
        for path in files:
            for record in records(path):
                record_id = record.get("recordId", record.get("record_id"))
                prefix_field(record, ("recordId", "record_id"), prefix)
                prefix_field(record, ("claimantId", "claimant_id"), prefix)
                incident = record.get("incident")
                if isinstance(incident, dict):
                    prefix_field(incident, ("productKey", "product_key"), prefix, default="pk-" + record_id)
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    print(count)


def canon(prefix, results, out):
    rows = []
    with open(results, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            result = json.loads(line)
            record_id = result.get("recordId", "")
            if not isinstance(result, dict) or not record_id.startswith(prefix) or "verdict" not in result:
                sys.exit("%s:%d: not a result of a record with prefix %r: %s" % (results, number, prefix, line[:120]))
            result["recordId"] = record_id[len(prefix):]
            rows.append((result["recordId"], json.dumps(result, ensure_ascii=False, sort_keys=True)))
    rows.sort()
    with open(out, "w", encoding="utf-8") as f:
        for _, text in rows:
            f.write(text + "\n")
    print(len(rows))


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "prepare":
        prepare(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 5 and sys.argv[1] == "canon":
        canon(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
