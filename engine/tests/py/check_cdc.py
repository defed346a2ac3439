"""Compares the Parquet files a sluice ParquetSink wrote from Debezium change events with the
PostgreSQL table they came from, and prints one JSON report for the Rust test.

usage: check_cdc.py PSQL PG_PORT DB OUT_DIR MODE
  MODE envelope: files hold Debezium's whole envelope (before, after, op, ...);
  MODE after:    files hold the row image only (ExtractField$Value field=after).

Values are read back with duckdb (types checked with pyarrow), ordered by Kafka offset (the
file name's start offset, then the row within the file). Each PostgreSQL row must equal the
latest version the files hold, column by column, in Debezium's documented representation."""
import datetime
import decimal
import glob
import json
import os
import re
import subprocess
import sys

import duckdb
import pyarrow.parquet as pq

psql, port, db, out_dir, mode = sys.argv[1:6]
# Room for PostgreSQL's widest numerics when VariableScaleDecimal values are rebuilt.
decimal.getcontext().prec = 1000

PG_QUERY = """
SELECT row_to_json(x)::text FROM (
  SELECT id, small, big, price::text AS price, amount::text AS amount, r::float8 AS r, d, flag,
         (day - date '1970-01-01') AS day,
         (extract(epoch FROM at_time) * 1000000)::bigint AS at_time,
         (extract(epoch FROM at_ts) * 1000000)::bigint AS at_ts,
         (extract(epoch FROM at_tz) * 1000000)::bigint AS at_tz,
         uid::text AS uid, doc::text AS doc, encode(blob, 'hex') AS blob,
         array_to_json(nums)::text AS nums, note
  FROM t ORDER BY id) x
"""

COLUMNS = ["id", "small", "big", "price", "amount", "r", "d", "flag", "day", "at_time",
           "at_ts", "at_tz", "uid", "doc", "blob", "nums", "note"]

# The Parquet type of each row-image column (pyarrow's names), as the README documents.
EXPECTED_TYPES = {
    "id": "int32", "small": "int16", "big": "int64", "price": "decimal128(12, 2)",
    "amount": "struct<scale: int32 not null, value: binary not null>", "r": "float",
    "d": "double", "flag": "bool", "day": "int32", "at_time": "int64", "at_ts": "int64",
    "at_tz": "string", "uid": "string", "doc": "string", "blob": "binary",
    "nums": "list<item: int32>", "note": "string",
}

pg_rows = {}
text = subprocess.run([psql, "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db,
                       "-At", "-c", PG_QUERY], check=True, capture_output=True, text=True).stdout
for line in text.splitlines():
    if line.strip():
        r = json.loads(line)
        pg_rows[r["id"]] = r

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def to_pg_form(col, v):
    """A Parquet value of `col`, in the form the PostgreSQL query prints."""
    if v is None:
        return None
    if col == "price":
        return str(v)
    if col == "amount":
        # Debezium's VariableScaleDecimal; Debezium itself writes whole numbers with scale 0
        # (1.0000000 in PostgreSQL arrives as {scale: 0, value: 1}), so values are compared
        # as numbers.
        unscaled = int.from_bytes(v["value"], "big", signed=True)
        return decimal.Decimal(unscaled).scaleb(-v["scale"])
    if col == "at_tz":
        dt = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return (dt - EPOCH) // datetime.timedelta(microseconds=1)
    if col == "blob":
        return bytes(v).hex()
    if col == "nums":
        return json.dumps(list(v), separators=(",", ":"))
    return v


def pg_form(col, v):
    if v is None:
        return None
    if col == "amount":
        return decimal.Decimal(v)
    if col == "nums":
        return json.dumps(json.loads(v), separators=(",", ":"))
    return v


files = sorted(glob.glob(os.path.join(out_dir, "**", "*.parquet"), recursive=True))
report = {"files": len(files), "file_rows": [], "schema": {}, "rows": 0, "mismatches": [],
          "null_images": 0, "live_ids": 0, "pg_rows": len(pg_rows), "deleted_ok": 0,
          "type_mismatches": []}


def start_offset(path):
    m = re.search(r"\+(\d+)\+(\d+)\+(\d+)\.parquet$", os.path.basename(path))
    return int(m.group(2)) if m else -1


files.sort(key=start_offset)
for f in files:
    report["file_rows"].append(pq.ParquetFile(f).metadata.num_rows)
if files:
    schema = pq.read_schema(files[0])
    image = schema
    if mode == "envelope":
        image_type = schema.field("after").type
        fields = {image_type.field(i).name: str(image_type.field(i).type)
                  for i in range(image_type.num_fields)}
    else:
        fields = {f.name: str(f.type) for f in image}
    report["schema"] = fields
    for col, want in EXPECTED_TYPES.items():
        if fields.get(col) != want:
            report["type_mismatches"].append({"column": col, "want": want, "got": fields.get(col)})
    for f in files[1:]:
        if pq.read_schema(f) != schema:
            report["type_mismatches"].append({"file": os.path.basename(f), "schema differs": True})

con = duckdb.connect()
latest = {}
deleted = set()
for f in files:
    if mode == "envelope":
        rows = con.execute(
            f"SELECT op, before, after FROM read_parquet('{f}', file_row_number=true) ORDER BY file_row_number"
        ).fetchall()
        for op, before, after in rows:
            report["rows"] += 1
            if op == "d":
                deleted.add(before["id"])
                latest.pop(before["id"], None)
            else:
                deleted.discard(after["id"])
                latest[after["id"]] = after
    else:
        cols = ", ".join(f'"{c}"' for c in COLUMNS)
        rows = con.execute(
            f"SELECT {cols} FROM read_parquet('{f}', file_row_number=true) ORDER BY file_row_number"
        ).fetchall()
        for r in rows:
            report["rows"] += 1
            if all(v is None for v in r):
                report["null_images"] += 1
                continue
            latest[r[0]] = dict(zip(COLUMNS, r))

for pid, pg in pg_rows.items():
    got = latest.get(pid)
    if got is None:
        report["mismatches"].append({"id": pid, "missing": True})
        continue
    for col in COLUMNS:
        want = pg_form(col, pg[col])
        have = to_pg_form(col, got[col])
        if want != have:
            report["mismatches"].append({"id": pid, "column": col, "postgres": repr(want),
                                         "parquet": repr(have)})
report["live_ids"] = len(latest)
if mode == "envelope":
    # Every row PostgreSQL no longer has was deleted, by its last event.
    stale = [i for i in latest if i not in pg_rows]
    report["mismatches"].extend({"id": i, "not deleted": True} for i in stale)
    report["deleted_ok"] = len(deleted)
report["mismatch_count"] = len(report["mismatches"])
report["mismatches"] = report["mismatches"][:20]
print(json.dumps(report, default=str))
