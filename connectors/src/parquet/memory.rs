//! The memory open files hold in Arrow batches, each buffer counted once however many
//! columns, batches and files share it: decoded strings are views of the fetched input, so
//! one input buffer backs several columns of every partition's chunk of a batch.

use std::collections::HashMap;

use arrow::array::{Array, ArrayData, RecordBatch};

/// A buffer by the address of its allocation, and that allocation's size.
pub(crate) type BufferId = (usize, usize);

/// The distinct buffers behind `batch`.
pub(crate) fn buffers_of(batch: &RecordBatch) -> Vec<BufferId> {
    fn visit(data: &ArrayData, out: &mut Vec<BufferId>) {
        for b in data.buffers() {
            out.push((b.data_ptr().as_ptr() as usize, b.capacity()));
        }
        if let Some(n) = data.nulls() {
            let b = n.buffer();
            out.push((b.data_ptr().as_ptr() as usize, b.capacity()));
        }
        for child in data.child_data() {
            visit(child, out);
        }
    }
    let mut out = Vec::new();
    for column in batch.columns() {
        visit(&column.to_data(), &mut out);
    }
    out.sort_unstable();
    out.dedup_by_key(|b| b.0);
    out
}

/// Buffers held by open files, with how many holds each has.
#[derive(Debug, Default)]
pub(crate) struct HeldBuffers {
    holds: HashMap<usize, (usize, u32)>,
    total: usize,
}

impl HeldBuffers {
    /// Bytes held, each allocation once.
    pub(crate) fn total(&self) -> usize {
        self.total
    }

    pub(crate) fn hold(&mut self, buffers: &[BufferId]) {
        for &(address, size) in buffers {
            let entry = self.holds.entry(address).or_insert((size, 0));
            if entry.1 == 0 {
                self.total += size;
            }
            entry.1 += 1;
        }
    }

    pub(crate) fn release(&mut self, buffers: &[BufferId]) {
        for &(address, _) in buffers {
            if let Some(entry) = self.holds.get_mut(&address) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    self.total = self.total.saturating_sub(entry.0);
                    self.holds.remove(&address);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{ArrayRef, StringViewArray, UInt32Array};
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn shared_buffers_count_once_until_the_last_hold_goes() {
        let long = "a value longer than twelve bytes";
        let strings: ArrayRef = Arc::new(StringViewArray::from(vec![long; 100]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Utf8View, false),
            Field::new("b", DataType::Utf8View, false),
        ]));
        // Two columns on one data buffer, and two chunks of it taken by row.
        let batch = RecordBatch::try_new(schema, vec![strings.clone(), strings]).unwrap();
        let chunk = |rows: Vec<u32>| {
            arrow::compute::take_record_batch(&batch, &UInt32Array::from(rows)).unwrap()
        };
        let (first, second) = (buffers_of(&chunk(vec![0, 1])), buffers_of(&chunk(vec![2])));
        let data = first
            .iter()
            .find(|b| second.contains(b))
            .expect("the chunks share the data buffer");
        let mut held = HeldBuffers::default();
        held.hold(&first);
        let after_first = held.total();
        held.hold(&second);
        let own: usize = second.iter().filter(|b| *b != data).map(|b| b.1).sum();
        assert_eq!(held.total(), after_first + own, "the data buffer once");
        held.release(&first);
        assert_eq!(held.total(), data.1 + own, "still held by the second chunk");
        held.release(&second);
        assert_eq!(held.total(), 0);
    }
}
