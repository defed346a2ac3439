//! Committing Parquet files to local disk: io_uring (one submission for the whole file, then
//! fsync) against plain `write` + `fsync`, for the file sizes the sink writes. The faster one
//! is `local.io.uring`'s default; figures in perf/RESULTS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sluice_connectors::parquet::store::{LocalStore, Store, uring_available};

fn commit(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    for size in [1usize << 20, 16 << 20] {
        // Incompressible-looking bytes, written once per iteration under a fresh name.
        let data: Vec<u8> = (0..size)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8)
            .collect();
        let mut g = c.benchmark_group(format!("local_commit_{}MiB", size >> 20));
        g.throughput(Throughput::Bytes(size as u64));
        g.sample_size(20);
        for (name, uring) in [("plain_write_fsync", false), ("io_uring_fsync", true)] {
            if uring && !uring_available() {
                continue;
            }
            let mut store = LocalStore::with_uring(dir.path().to_path_buf(), uring);
            let mut n = 0u64;
            g.bench_function(name, |b| {
                b.iter(|| {
                    n += 1;
                    store
                        .put(&format!("{name}/{n}.parquet"), data.clone())
                        .expect("put");
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, commit);
criterion_main!(benches);
