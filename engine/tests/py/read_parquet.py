"""Reads every committed Parquet file under a directory with two independent readers
(pyarrow and duckdb) and prints one JSON summary for the Rust integration tests."""
import glob
import json
import os
import sys

import duckdb
import pyarrow.parquet as pq

root = sys.argv[1]
cols = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else []
# A directory (every committed file under it) or one file.
single = os.path.isfile(root)
files = [root] if single else sorted(glob.glob(os.path.join(root, "**", "*.parquet"), recursive=True))
out = {"files": [], "rows": [], "duckdb_count": 0, "duckdb_rows": []}
for f in files:
    meta = pq.ParquetFile(f).metadata
    table = pq.read_table(f)
    out["files"].append({
        "path": os.path.basename(f) if single else os.path.relpath(f, root),
        "rows": table.num_rows,
        "codec": meta.row_group(0).column(0).compression if meta.num_row_groups else None,
        "schema": {field.name: str(field.type) for field in table.schema},
    })
    if cols:
        data = table.select(cols).to_pylist()
        out["rows"].extend([[r[c] for c in cols] for r in data])
if files:
    con = duckdb.connect()
    pattern = root if single else os.path.join(root, "**", "*.parquet")
    out["duckdb_count"] = con.execute(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchone()[0]
    if cols:
        q = ", ".join(f'"{c}"' for c in cols)
        out["duckdb_rows"] = [list(r) for r in con.execute(f"SELECT {q} FROM read_parquet('{pattern}')").fetchall()]
print(json.dumps(out, default=str))
