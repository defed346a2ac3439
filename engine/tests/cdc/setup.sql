-- The CDC test table: every column type the test covers, nullable columns with nulls, and
-- 50,000 rows for Debezium's snapshot.
DROP TABLE IF EXISTS t;
CREATE TABLE t (
  id int PRIMARY KEY,
  small smallint,
  big bigint NOT NULL,
  price numeric(12,2),
  amount numeric,
  r real,
  d double precision,
  flag boolean,
  day date,
  at_time time,
  at_ts timestamp,
  at_tz timestamptz,
  uid uuid,
  doc jsonb,
  blob bytea,
  nums int[],
  note text
);
INSERT INTO t
SELECT i,
       CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 30000 - 15000)::smallint END,
       i::bigint * 1000003 - 25000000000,
       CASE WHEN i % 17 = 0 THEN NULL ELSE round(i * 7.31 - 100000, 2)::numeric(12,2) END,
       CASE WHEN i % 19 = 0 THEN NULL ELSE round(i / 7.0, i % 9) END,
       CASE WHEN i % 23 = 0 THEN NULL ELSE ((i % 4000) - 2000) / 4.0 END,
       i * 0.1 - 333.3,
       CASE WHEN i % 29 = 0 THEN NULL ELSE i % 2 = 0 END,
       date '2024-01-01' + (i % 4000) - 2000,
       time '00:00' + ((i::bigint * 1000003) % 86400000000) * interval '1 microsecond',
       timestamp '2024-01-01' + (i::bigint * 1234567 - 30000000000) * interval '1 microsecond',
       timestamptz '2024-01-01 00:00:00+00' + (i::bigint * 7654321) * interval '1 microsecond',
       md5(i::text)::uuid,
       CASE WHEN i % 31 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'tags', jsonb_build_array('a', i % 3)) END,
       CASE WHEN i % 37 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') END,
       CASE WHEN i % 41 = 0 THEN NULL ELSE ARRAY[i, NULL, -i] END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE 'note ' || i END
FROM generate_series(1, 50000) AS i;
