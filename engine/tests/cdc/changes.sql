UPDATE t SET price = price + 1, note = 'updated', small = NULL, nums = ARRAY[NULL, 1]::int[] WHERE id % 10 = 0 AND id <= 5000
DELETE FROM t WHERE id % 10 = 5 AND id <= 5000
INSERT INTO t SELECT i, 7, i, 0.01, -0.5, 1.25, 2.5, true, date '1969-12-31', time '23:59:59.999999', timestamp '1960-06-01 12:00:00.000001', timestamptz '2030-01-01 00:00:00.5+02', md5(i::text)::uuid, '{"nested": {"a": [1, 2]}}', '\x00ff', ARRAY[]::int[], 'inserted' FROM generate_series(50001, 51000) AS i
UPDATE t SET amount = 123456789012345678901234567890.123456789, doc = NULL, blob = '\x' WHERE id = 50001
