"""Monthly order report: reads orders.csv, prints one JSON document.

A batch job that touches a fair part of the standard library (csv, decimal, datetime with time
zones, statistics, hashlib, zlib, base64, json): its output depends only on its input, so two
runs of the same image print the same bytes.
"""

import base64
import csv
import hashlib
import json
import statistics
import sys
import zlib
from collections import Counter, defaultdict
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

CENT = Decimal("0.01")
LOCAL = ZoneInfo("Europe/Paris")


def main() -> int:
    source = Path(__file__).with_name("orders.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    by_customer: dict[str, Decimal] = defaultdict(Decimal)
    weekdays: Counter[str] = Counter()
    totals = []
    for row in rows:
        total = (Decimal(row["amount"]) * int(row["quantity"])).quantize(CENT, ROUND_HALF_EVEN)
        totals.append(total)
        by_customer[row["customer"]] += total
        # Paris local time: 2024-03-31 is the night the clocks go forward
        placed = datetime.fromisoformat(row["placed_at"]).astimezone(LOCAL)
        weekdays[placed.strftime("%A")] += 1

    canonical = json.dumps(rows, sort_keys=True, separators=(",", ":")).encode()
    report = {
        "orders": len(rows),
        "revenue": str(sum(totals, Decimal(0))),
        "median_order": str(statistics.median(totals)),
        "by_customer": {name: str(value) for name, value in sorted(by_customer.items())},
        "busiest_weekday": sorted(weekdays.items(), key=lambda kv: (-kv[1], kv[0]))[0][0],
        "last_order_local": datetime.fromisoformat(rows[-1]["placed_at"])
        .astimezone(LOCAL)
        .isoformat(),
        "sha256": hashlib.sha256(canonical).hexdigest(),
        "crc32": f"{zlib.crc32(canonical):08x}",
        "compressed_b64_prefix": base64.b64encode(zlib.compress(canonical, 9))[:16].decode(),
    }
    json.dump(report, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
