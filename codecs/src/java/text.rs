//! Java's `String.valueOf` of schemaless Connect values (what FileStreamSink prints), written
//! column-wise: the writer tree is built once per batch over typed slices, so a row costs no
//! per-record `Value`. Shaped schemaless structs stand for `HashMap`s (`{k=v, k2=v2}`, members
//! in the children's order, which is the map's iteration order), lists for `ArrayList`s.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::DataType;

use crate::columnar::typed_column::Scalar;
use crate::model::column::ConnectColumn;

enum Node<'a> {
    Scalar(Scalar<'a>),
    List {
        offsets: &'a [i32],
        item: Box<Writer<'a>>,
    },
    /// Each member's `name=` and its writer.
    Map(Vec<(Vec<u8>, Writer<'a>)>),
    /// Anything else: through the reference value.
    Cell(&'a ArrayRef),
}

struct Writer<'a> {
    node: Node<'a>,
    nulls: Option<&'a NullBuffer>,
}

impl<'a> Writer<'a> {
    fn new(array: &'a ArrayRef) -> Self {
        let node = match array.data_type() {
            _ if let Some(scalar) = Scalar::of(array, false) => Node::Scalar(scalar),
            DataType::List(_) => {
                let list = array.as_list::<i32>();
                Node::List {
                    offsets: list.value_offsets(),
                    item: Box::new(Writer::new(list.values())),
                }
            }
            DataType::Struct(fields) => Node::Map(
                fields
                    .iter()
                    .zip(array.as_struct().columns())
                    .map(|(f, c)| (format!("{}=", f.name()).into_bytes(), Writer::new(c)))
                    .collect(),
            ),
            _ => Node::Cell(array),
        };
        Writer {
            node,
            nulls: array.nulls(),
        }
    }

    fn write(&self, row: usize, out: &mut Vec<u8>) {
        if self.nulls.is_some_and(|n| n.is_null(row)) {
            out.extend_from_slice(b"null");
            return;
        }
        match &self.node {
            Node::Scalar(scalar) => {
                if scalar.write_plain(row, out) {
                    return;
                }
                match scalar {
                    Scalar::F32(v) => {
                        out.extend_from_slice(crate::java::float_to_string(v[row]).as_bytes())
                    }
                    Scalar::F64(v) => {
                        out.extend_from_slice(crate::java::double_to_string(v[row]).as_bytes())
                    }
                    Scalar::Str(a) => out.extend_from_slice(a.value(row).as_bytes()),
                    // As `java_to_string` renders bytes.
                    Scalar::Bytes(a) => {
                        out.extend_from_slice(String::from_utf8_lossy(a.value(row)).as_bytes())
                    }
                    _ => {}
                }
            }
            Node::List { offsets, item } => {
                out.push(b'[');
                let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
                for j in start..end {
                    if j > start {
                        out.extend_from_slice(b", ");
                    }
                    item.write(j, out);
                }
                out.push(b']');
            }
            Node::Map(members) => {
                out.push(b'{');
                for (k, (name, w)) in members.iter().enumerate() {
                    if k > 0 {
                        out.extend_from_slice(b", ");
                    }
                    out.extend_from_slice(name);
                    w.write(row, out);
                }
                out.push(b'}');
            }
            Node::Cell(a) => out.extend_from_slice(
                crate::reference::java_to_string(&crate::model::cells::schemaless_cell(a, row))
                    .as_bytes(),
            ),
        }
    }
}

/// Writes `String.valueOf` of each row of a schemaless column through `line(row, text)`;
/// `None` when the column has a schema (those print as `Struct{...}` through the reference
/// values instead).
pub fn for_each_schemaless(
    column: &ConnectColumn,
    mut line: impl FnMut(usize, &[u8]),
) -> Option<()> {
    if column.schema.is_some() {
        return None;
    }
    let writer = Writer::new(&column.array);
    let mut out = Vec::with_capacity(512);
    let mut exact = column.exact.iter().peekable();
    for row in 0..column.len() {
        out.clear();
        // The exact side table is in row order.
        match exact.next_if(|(r, _)| *r == row) {
            Some((_, v)) => {
                out.extend_from_slice(crate::reference::java_to_string(v).as_bytes());
            }
            None => writer.write(row, &mut out),
        }
        line(row, &out);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Stage;
    use crate::events::{EventShape, Events};
    use crate::json::columnar::SchemalessDecoder;
    use crate::json::connect::JsonConfig;
    use arrow::array::BinaryViewArray;

    #[test]
    fn column_wise_text_equals_the_reference_for_every_row() {
        let cfg = JsonConfig {
            schemas_enable: false,
            ..JsonConfig::default()
        };
        let mut rows: Vec<Vec<u8>> = Vec::new();
        for shape in ["standard", "wide50"] {
            let mut g = Events::new(EventShape::parse(shape).unwrap());
            for _ in 0..300 {
                let mut v = Vec::new();
                g.write_next(&mut v);
                rows.push(v);
            }
        }
        // Off-shape rows (exact side table), odd numbers, nulls and nested values.
        rows.push(br#"{"id":1,"other":"shape"}"#.to_vec());
        rows.push(br#"[1,2.5,"x",null,{"a":[true,1e300]}]"#.to_vec());
        rows.push(br#"{"x":-0.0,"y":1e-7,"z":12345678.9,"n":null,"l":[[1],[]]}"#.to_vec());
        for chunk in rows.chunks(250) {
            let input =
                BinaryViewArray::from(chunk.iter().map(|r| Some(r.as_slice())).collect::<Vec<_>>());
            let out = SchemalessDecoder::new(cfg.clone()).decode(&input, Stage::ValueConverter);
            let column = &out.runs[0].column;
            let mut seen = 0;
            for_each_schemaless(column, |row, text| {
                let expected = crate::reference::java_to_string(&column.value(row));
                assert_eq!(String::from_utf8_lossy(text), expected, "row {row}");
                seen += 1;
            })
            .unwrap();
            assert_eq!(seen, chunk.len());
        }
    }
}
