//! Column builders for the JSON decoders: Arrow's layouts plus `truncate`, so a fast reader
//! can write a row straight into the columns and take it back when it declines, and string
//! views that point into the input's own buffers instead of copying long strings.

use std::sync::Arc;

use arrow::array::builder::make_view;
use arrow::array::{
    BinaryViewArray, BooleanArray, BooleanBufferBuilder, NullBufferBuilder, PrimitiveArray,
    StringViewArray,
};
use arrow::buffer::{Buffer, NullBuffer, ScalarBuffer};
use arrow::datatypes::ArrowPrimitiveType;

/// Values of one primitive type.
#[derive(Debug)]
pub(crate) struct PrimCol<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    nulls: NullBufferBuilder,
}

impl<T: ArrowPrimitiveType> Default for PrimCol<T> {
    fn default() -> Self {
        Self {
            values: Vec::new(),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl<T: ArrowPrimitiveType> PrimCol<T> {
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows);
    }

    #[inline]
    pub(crate) fn append_value(&mut self, v: T::Native) {
        self.values.push(v);
        self.nulls.append_non_null();
    }

    pub(crate) fn append_null(&mut self) {
        self.values.push(T::Native::default());
        self.nulls.append_null();
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.nulls.truncate(len);
    }

    pub(crate) fn finish(&mut self) -> PrimitiveArray<T> {
        let values = ScalarBuffer::from(std::mem::take(&mut self.values));
        PrimitiveArray::new(values, self.nulls.finish())
    }
}

/// Booleans.
#[derive(Debug)]
pub(crate) struct BoolCol {
    values: BooleanBufferBuilder,
    nulls: NullBufferBuilder,
}

impl Default for BoolCol {
    fn default() -> Self {
        Self {
            values: BooleanBufferBuilder::new(0),
            nulls: NullBufferBuilder::new(0),
        }
    }
}

impl BoolCol {
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.values.reserve(rows);
    }

    #[inline]
    pub(crate) fn append_value(&mut self, v: bool) {
        self.values.append(v);
        self.nulls.append_non_null();
    }

    pub(crate) fn append_null(&mut self) {
        self.values.append(false);
        self.nulls.append_null();
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.values.truncate(len);
        self.nulls.truncate(len);
    }

    pub(crate) fn finish(&mut self) -> BooleanArray {
        BooleanArray::new(self.values.finish(), self.nulls.finish())
    }
}

/// Where a row's bytes live in the decoder's input, so long strings of the row can be views
/// of the input's buffers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    /// The input's data buffers; empty when the row is not in one (inline or copied).
    pub(crate) buffers: &'a [Buffer],
    /// The buffer holding the row, and the row's first byte in it.
    pub(crate) buffer: u32,
    pub(crate) offset: u32,
}

impl Source<'_> {
    /// A row that long strings cannot point into: they are copied.
    pub(crate) const NONE: Source<'static> = Source {
        buffers: &[],
        buffer: 0,
        offset: 0,
    };

    /// The same row's bytes from `at` on.
    pub(crate) fn advanced(self, at: usize) -> Self {
        Self {
            offset: self
                .offset
                .saturating_add(u32::try_from(at).unwrap_or(u32::MAX)),
            ..self
        }
    }
}

/// An own block is closed at this size, so offsets stay well inside `u32`.
const BLOCK_LIMIT: usize = 1 << 30;

/// For an inline view of n bytes, the mask that keeps its length and its n bytes.
const INLINE_KEEP: [u128; 13] = {
    let mut keep = [0u128; 13];
    let mut n = 0;
    while n < 13 {
        keep[n] = u128::MAX >> (96 - 8 * n);
        n += 1;
    }
    keep
};

/// Values as Arrow views: short ones inline, long ones either in own blocks or, for bytes
/// of the input, in the input's buffers shared as they are.
#[derive(Debug)]
struct ViewCol {
    views: Vec<u128>,
    nulls: NullBufferBuilder,
    /// Closed buffers in view-index order: own blocks and shared input buffers.
    buffers: Vec<Buffer>,
    /// The own block being filled; its index is `buffers.len()` while it is open.
    block: Vec<u8>,
    /// Input buffers already in `buffers`: (address, index).
    shared: Vec<(usize, u32)>,
}

impl ViewCol {
    fn new() -> Self {
        Self {
            views: Vec::new(),
            nulls: NullBufferBuilder::new(0),
            buffers: Vec::new(),
            block: Vec::new(),
            shared: Vec::new(),
        }
    }

    fn reserve(&mut self, rows: usize) {
        self.views.reserve(rows);
    }

    /// Appends a copy of `v` (inline when short).
    #[inline]
    fn push_copy(&mut self, v: &[u8]) {
        let view = if v.len() <= 12 {
            make_view(v, 0, 0)
        } else {
            if self.block.len() + v.len() > BLOCK_LIMIT {
                self.close_block();
            }
            let offset = self.block.len() as u32;
            self.block.extend_from_slice(v);
            make_view(v, self.buffers.len() as u32, offset)
        };
        self.views.push(view);
        self.nulls.append_non_null();
    }

    /// Appends `v` (at most 12 bytes) inline, its bytes taken from `window`: 12 bytes from
    /// the same address as `v` (checked), so a fixed-size copy and a mask replace a copy of
    /// `v.len()` bytes; anything else is copied as usual.
    #[inline(always)]
    fn push_short(&mut self, v: &[u8], window: &[u8]) {
        match window.get(..12) {
            Some(w) if v.len() <= 12 && w.as_ptr() == v.as_ptr() => {
                // Arrow's inline layout: length in the low four bytes, then the bytes, zeros
                // after them.
                let mut view = [0u8; 16];
                view[..4].copy_from_slice(&(v.len() as u32).to_le_bytes());
                view[4..].copy_from_slice(w);
                self.views
                    .push(u128::from_le_bytes(view) & INLINE_KEEP[v.len()]);
                self.nulls.append_non_null();
            }
            _ => self.push_copy(v),
        }
    }

    /// Appends `v`, a view of the input buffer `src` names when `v` is really there at
    /// `src.offset` (checked by address, so a view never points at other bytes), else a copy.
    #[inline]
    fn push_shared(&mut self, v: &[u8], src: Source<'_>) {
        let Some(buffer) = src.buffers.get(src.buffer as usize) else {
            return self.push_copy(v);
        };
        let offset = src.offset as usize;
        let there = buffer
            .get(offset..offset + v.len())
            .is_some_and(|b| b.as_ptr() == v.as_ptr());
        if v.len() <= 12 || !there {
            return self.push_copy(v);
        }
        let index = self.share(buffer);
        self.views.push(make_view(v, index, src.offset));
        self.nulls.append_non_null();
    }

    /// The index of `buffer` here, adding it on first use.
    fn share(&mut self, buffer: &Buffer) -> u32 {
        let address = buffer.as_ptr() as usize;
        if let Some(&(_, index)) = self.shared.iter().rev().find(|(a, _)| *a == address) {
            return index;
        }
        // Views into the open block carry its index: close it before the index moves on.
        self.close_block();
        let index = self.buffers.len() as u32;
        self.buffers.push(buffer.clone());
        self.shared.push((address, index));
        index
    }

    fn close_block(&mut self) {
        if !self.block.is_empty() {
            let block = std::mem::take(&mut self.block);
            self.buffers.push(Buffer::from_vec(block));
        }
    }

    fn append_null(&mut self) {
        self.views.push(0);
        self.nulls.append_null();
    }

    fn len(&self) -> usize {
        self.views.len()
    }

    /// Drops values from `len` on (bytes they copied stay in the block, unreferenced).
    fn truncate(&mut self, len: usize) {
        self.views.truncate(len);
        self.nulls.truncate(len);
    }

    fn parts(&mut self) -> (ScalarBuffer<u128>, Arc<[Buffer]>, Option<NullBuffer>) {
        self.close_block();
        self.shared.clear();
        let views = ScalarBuffer::from(std::mem::take(&mut self.views));
        let buffers: Arc<[Buffer]> = std::mem::take(&mut self.buffers).into();
        (views, buffers, self.nulls.finish())
    }
}

/// UTF-8 strings as views. Values only ever come in as `&str`, so the finished array is
/// built without validating every string again (a quarter of schemaless decode time).
#[derive(Debug)]
pub(crate) struct StrCol(ViewCol);

impl StrCol {
    pub(crate) fn new() -> Self {
        Self(ViewCol::new())
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.0.reserve(rows);
    }

    #[inline]
    pub(crate) fn append_value(&mut self, v: &str) {
        self.0.push_copy(v.as_bytes());
    }

    /// Appends `v`, which is the bytes of `src` from its offset on: long values become
    /// views of the input buffer instead of copies.
    #[inline]
    pub(crate) fn append_shared(&mut self, v: &str, src: Source<'_>) {
        self.0.push_shared(v.as_bytes(), src);
    }

    /// Appends `v` (12 bytes or fewer) read as 12 bytes from `window`, which starts at `v`.
    #[inline]
    pub(crate) fn append_short(&mut self, v: &str, window: &[u8]) {
        self.0.push_short(v.as_bytes(), window);
    }

    pub(crate) fn append_null(&mut self) {
        self.0.append_null();
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    #[allow(unsafe_code)]
    pub(crate) fn finish(&mut self) -> StringViewArray {
        let (views, buffers, nulls) = self.0.parts();
        // SAFETY: `try_new` would accept these parts: every non-null view holds a `&str`
        // (UTF-8): inline, made by `make_view` or by `push_short` from the bytes at the
        // `&str`'s own address (checked) masked to its length; or in an own block at the
        // offset it was copied to; or in a shared buffer at an offset `push_shared` checked
        // holds exactly those bytes. Buffer indices are the positions the blocks and shared
        // buffers were pushed at; `nulls` has one entry per view.
        unsafe { StringViewArray::new_unchecked(views, buffers, nulls) }
    }
}

/// Binary values as views (validated when finished: bounds only, which is cheap).
#[derive(Debug)]
pub(crate) struct BinCol(ViewCol);

impl BinCol {
    pub(crate) fn new() -> Self {
        Self(ViewCol::new())
    }

    pub(crate) fn reserve(&mut self, rows: usize) {
        self.0.reserve(rows);
    }

    pub(crate) fn append_value(&mut self, v: &[u8]) {
        self.0.push_copy(v);
    }

    pub(crate) fn append_null(&mut self) {
        self.0.append_null();
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    pub(crate) fn finish(&mut self) -> BinaryViewArray {
        let (views, buffers, nulls) = self.0.parts();
        let len = views.len();
        BinaryViewArray::try_new(views, buffers, nulls)
            .unwrap_or_else(|_| BinaryViewArray::new_null(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    #[test]
    fn short_views_from_a_window_equal_copied_ones() {
        let row = "abcdefghijklmnopqrstuvwxyz";
        for start in 0..8 {
            for len in 0..=12 {
                let v = &row[start..start + len];
                let mut fast = StrCol::new();
                fast.append_short(v, &row.as_bytes()[start..]);
                // A window elsewhere, or too short, falls back to a copy.
                fast.append_short(v, &row.as_bytes()[start + 1..]);
                fast.append_short(v, &row.as_bytes()[start..start + len]);
                let a = fast.finish();
                assert_eq!(a.views()[0], make_view(v.as_bytes(), 0, 0), "{v:?}");
                for k in 0..3 {
                    assert_eq!(a.value(k), v);
                }
            }
        }
    }

    #[test]
    fn views_copy_or_share_and_truncate() {
        let input = Buffer::from_vec(b"xx a string longer than twelve bytes".to_vec());
        let buffers = [input];
        let src = Source {
            buffers: &buffers,
            buffer: 0,
            offset: 3,
        };
        let text = |b: &[u8]| std::str::from_utf8(b).unwrap().to_owned();
        let in_input = std::str::from_utf8(&buffers[0]).unwrap();
        let mut c = StrCol::new();
        c.append_value("short");
        c.append_shared(&in_input[3..], src);
        c.append_value("another string over twelve");
        c.append_null();
        c.append_value("dropped when truncated");
        c.truncate(4);
        c.append_shared(&in_input[3..11], src);
        // Bytes that are not where the source says are copied, never mis-pointed.
        let elsewhere = text(&buffers[0][3..]);
        c.append_shared(&elsewhere, src);
        c.append_shared(&in_input[4..], src);
        let a = c.finish();
        assert_eq!(a.len(), 7);
        assert_eq!(a.value(5), "a string longer than twelve bytes");
        assert_eq!(a.value(6), " string longer than twelve bytes");
        assert_eq!(a.value(0), "short");
        assert_eq!(a.value(1), "a string longer than twelve bytes");
        assert_eq!(a.value(2), "another string over twelve");
        assert!(a.is_null(3));
        assert_eq!(a.value(4), "a string");
        // The long shared value points into the input buffer, not a copy.
        assert!(
            a.data_buffers()
                .iter()
                .any(|b| b.as_ptr() == buffers[0].as_ptr())
        );
    }

    #[test]
    fn primitives_and_booleans_truncate_values_and_nulls() {
        let mut p = PrimCol::<arrow::datatypes::Int64Type>::default();
        p.append_value(1);
        p.append_null();
        p.append_value(3);
        p.truncate(1);
        p.append_value(4);
        let a = p.finish();
        assert_eq!(a.values().as_ref(), &[1, 4]);
        assert_eq!(a.null_count(), 0);
        let mut b = BoolCol::default();
        b.append_value(true);
        b.append_null();
        b.truncate(1);
        b.append_value(false);
        let a = b.finish();
        assert_eq!((a.value(0), a.value(1), a.null_count()), (true, false, 0));
    }
}
