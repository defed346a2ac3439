//! `.proto` schemas as the registry holds them: a parser of the proto2/proto3 text, and the
//! descriptors it builds (messages, fields, oneofs, enums, resolved type references), laid
//! out as Confluent's `ProtobufSchema.toDescriptor()` lays them out (oneof members first,
//! map fields as nested `…Entry` messages, proto3 `optional` as synthetic oneofs).

use std::collections::HashMap;

use super::well_known;

/// Why a schema text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (line {line})")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Proto2,
    Proto3,
}

/// A field's declared label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// No label (proto3 singular, map key/value, oneof member).
    None,
    Optional,
    Required,
    Repeated,
}

/// A field's type after resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Double,
    Float,
    Int64,
    Uint64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    Uint32,
    Sfixed32,
    Sfixed64,
    Sint32,
    Sint64,
    Enum(usize),
    Message(usize),
}

impl FieldType {
    fn scalar(name: &str) -> Option<Self> {
        Some(match name {
            "double" => FieldType::Double,
            "float" => FieldType::Float,
            "int64" => FieldType::Int64,
            "uint64" => FieldType::Uint64,
            "int32" => FieldType::Int32,
            "fixed64" => FieldType::Fixed64,
            "fixed32" => FieldType::Fixed32,
            "bool" => FieldType::Bool,
            "string" => FieldType::String,
            "bytes" => FieldType::Bytes,
            "uint32" => FieldType::Uint32,
            "sfixed32" => FieldType::Sfixed32,
            "sfixed64" => FieldType::Sfixed64,
            "sint32" => FieldType::Sint32,
            "sint64" => FieldType::Sint64,
            _ => return None,
        })
    }

    /// `FieldDescriptor.Type.toString().toLowerCase()`.
    pub fn proto_name(self) -> &'static str {
        match self {
            FieldType::Double => "double",
            FieldType::Float => "float",
            FieldType::Int64 => "int64",
            FieldType::Uint64 => "uint64",
            FieldType::Int32 => "int32",
            FieldType::Fixed64 => "fixed64",
            FieldType::Fixed32 => "fixed32",
            FieldType::Bool => "bool",
            FieldType::String => "string",
            FieldType::Bytes => "bytes",
            FieldType::Uint32 => "uint32",
            FieldType::Sfixed32 => "sfixed32",
            FieldType::Sfixed64 => "sfixed64",
            FieldType::Sint32 => "sint32",
            FieldType::Sint64 => "sint64",
            FieldType::Enum(_) => "enum",
            FieldType::Message(_) => "message",
        }
    }

    /// Scalars a repeated field may carry packed.
    pub fn packable(self) -> bool {
        !matches!(
            self,
            FieldType::String | FieldType::Bytes | FieldType::Message(_)
        )
    }
}

#[derive(Debug, Clone)]
pub struct FieldDesc {
    pub name: String,
    pub number: i32,
    pub label: Label,
    pub ty: FieldType,
    /// Index into the message's `oneofs` (real or synthetic).
    pub oneof: Option<usize>,
    pub proto3_optional: bool,
    /// `[default = …]` as written.
    pub default: Option<String>,
    /// `(confluent.field_meta).params`, in order.
    pub meta_params: Vec<(String, String)>,
    /// `(confluent.field_meta).doc`.
    pub meta_doc: Option<String>,
}

impl FieldDesc {
    pub fn is_repeated(&self) -> bool {
        self.label == Label::Repeated
    }
}

#[derive(Debug, Clone)]
pub struct OneofDesc {
    pub name: String,
    pub fields: Vec<usize>,
    pub synthetic: bool,
}

#[derive(Debug, Clone)]
pub struct MessageDesc {
    pub name: String,
    pub full_name: String,
    pub syntax: Syntax,
    pub fields: Vec<FieldDesc>,
    pub oneofs: Vec<OneofDesc>,
    /// Nested messages as declared (map entries excluded), for message indexes.
    pub nested_messages: Vec<usize>,
    pub map_entry: bool,
    /// field number → index into `fields`.
    by_number: HashMap<i32, usize>,
}

impl MessageDesc {
    pub fn field_by_number(&self, number: i32) -> Option<usize> {
        // A scan beats hashing for the usual few fields.
        if self.fields.len() <= 16 {
            return self.fields.iter().position(|f| f.number == number);
        }
        self.by_number.get(&number).copied()
    }

    pub fn field_by_name(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// `getRealOneofs()`, with their indexes.
    pub fn real_oneofs(&self) -> impl Iterator<Item = (usize, &OneofDesc)> {
        self.oneofs.iter().enumerate().filter(|(_, o)| !o.synthetic)
    }

    /// Whether field `i` belongs to a real (declared) oneof.
    pub fn in_real_oneof(&self, i: usize) -> bool {
        self.fields[i]
            .oneof
            .is_some_and(|o| !self.oneofs[o].synthetic)
    }
}

#[derive(Debug, Clone)]
pub struct EnumDesc {
    pub name: String,
    pub full_name: String,
    pub values: Vec<(String, i32)>,
    /// proto2 enums are closed: unknown numbers are unknown fields.
    pub closed: bool,
}

impl EnumDesc {
    pub fn name_of(&self, number: i32) -> Option<&str> {
        self.values
            .iter()
            .find(|(_, n)| *n == number)
            .map(|(s, _)| s.as_str())
    }
}

/// One file's top level.
#[derive(Debug, Clone)]
struct FileDesc {
    package: String,
    /// Top-level messages in declaration order (for message indexes).
    messages: Vec<usize>,
    /// The first top-level enum (a schema whose only type is an enum).
    first_enum: Option<usize>,
}

/// A parsed schema and the files it imports, with every type reference resolved.
#[derive(Debug, Clone)]
pub struct ProtoSchema {
    pub messages: Vec<MessageDesc>,
    pub enums: Vec<EnumDesc>,
    /// The registry's file is `files[0]`.
    files: Vec<FileDesc>,
}

impl ProtoSchema {
    /// Parses a schema text; imports of the well-known files Confluent bundles are found,
    /// other imports are an error (references are not supported yet).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut b = Build::default();
        let main = parse_file(text)?;
        let mut pending: Vec<String> = main.imports.clone();
        let mut files = vec![main];
        let mut seen: Vec<String> = Vec::new();
        while let Some(path) = pending.pop() {
            if seen.contains(&path) {
                continue;
            }
            seen.push(path.clone());
            let Some(src) = well_known::file(&path) else {
                if path == "google/protobuf/descriptor.proto" {
                    continue;
                }
                return Err(ParseError {
                    line: 0,
                    message: format!("import \"{path}\" is not a known dependency"),
                });
            };
            let f = parse_file(src)?;
            pending.extend(f.imports.iter().cloned());
            files.push(f);
        }
        for f in &files {
            b.declare_file(f);
        }
        b.define()?;
        Ok(ProtoSchema {
            messages: b.messages,
            enums: b.enums,
            files: b.files,
        })
    }

    fn main_file(&self) -> &FileDesc {
        &self.files[0]
    }

    /// `ProtobufSchema.toMessageName(indexes)` then the descriptor of that name.
    pub fn message_at(&self, indexes: &[i32]) -> Option<usize> {
        let mut list = &self.main_file().messages;
        let mut found = None;
        for &i in indexes {
            let m = *list.get(usize::try_from(i).ok()?)?;
            found = Some(m);
            list = &self.messages[m].nested_messages;
        }
        found
    }

    /// `ProtobufSchema.name()`: the first message of the file (or its first enum).
    pub fn first_message(&self) -> Option<usize> {
        self.main_file().messages.first().copied()
    }

    pub fn package(&self) -> &str {
        &self.main_file().package
    }

    pub fn has_only_enum(&self) -> bool {
        self.main_file().messages.is_empty() && self.main_file().first_enum.is_some()
    }
}

// ---------------------------------------------------------------------------------------
// The parse tree of one file.

#[derive(Debug, Clone)]
struct PFile {
    syntax: Syntax,
    package: String,
    imports: Vec<String>,
    types: Vec<PType>,
}

#[derive(Debug, Clone)]
enum PType {
    Message(PMessage),
    Enum(PEnum),
}

#[derive(Debug, Clone)]
struct PMessage {
    name: String,
    fields: Vec<PField>,
    oneofs: Vec<(String, Vec<PField>)>,
    types: Vec<PType>,
    map_entry_option: Option<bool>,
}

#[derive(Debug, Clone)]
struct PField {
    label: Label,
    /// The type as written (`map<K, V>` split into `map_kv`).
    type_name: String,
    map_kv: Option<(String, String)>,
    name: String,
    number: i32,
    options: Vec<(String, OptValue)>,
    line: usize,
}

#[derive(Debug, Clone)]
struct PEnum {
    name: String,
    values: Vec<(String, i32)>,
}

/// An option's value: a scalar token or a text-format aggregate.
#[derive(Debug, Clone, PartialEq)]
enum OptValue {
    Scalar(String),
    Str(String),
    Aggregate(Vec<(String, OptValue)>),
    List(Vec<OptValue>),
}

// ---------------------------------------------------------------------------------------
// Tokens.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// Numbers, possibly signed.
    Num(String),
    Str(String),
    Sym(char),
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: usize,
    peeked: Option<(Tok, usize)>,
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src: src.as_bytes(),
            pos: 0,
            line: 1,
            peeked: None,
        }
    }

    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            message: message.into(),
        }
    }

    fn skip_space(&mut self) {
        while self.pos < self.src.len() {
            let c = self.src[self.pos];
            if c == b'\n' {
                self.line += 1;
                self.pos += 1;
            } else if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if self.src[self.pos..].starts_with(b"//") {
                while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
                    self.pos += 1;
                }
            } else if self.src[self.pos..].starts_with(b"/*") {
                self.pos += 2;
                while self.pos < self.src.len() && !self.src[self.pos..].starts_with(b"*/") {
                    if self.src[self.pos] == b'\n' {
                        self.line += 1;
                    }
                    self.pos += 1;
                }
                self.pos = (self.pos + 2).min(self.src.len());
            } else {
                break;
            }
        }
    }

    fn lex(&mut self) -> Result<Option<Tok>, ParseError> {
        self.skip_space();
        let Some(&c) = self.src.get(self.pos) else {
            return Ok(None);
        };
        let start = self.pos;
        if c.is_ascii_alphabetic() || c == b'_' {
            while self
                .src
                .get(self.pos)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                self.pos += 1;
            }
            return Ok(Some(Tok::Ident(self.text(start))));
        }
        if c.is_ascii_digit()
            || ((c == b'-' || c == b'+' || c == b'.')
                && self
                    .src
                    .get(self.pos + 1)
                    .is_some_and(|d| d.is_ascii_digit()))
        {
            self.pos += 1;
            while self.src.get(self.pos).is_some_and(|c| {
                c.is_ascii_alphanumeric()
                    || *c == b'.'
                    || ((*c == b'-' || *c == b'+')
                        && matches!(self.src[self.pos - 1], b'e' | b'E')
                        && !self.src[start..self.pos].starts_with(b"0x"))
            }) {
                self.pos += 1;
            }
            return Ok(Some(Tok::Num(self.text(start))));
        }
        if c == b'"' || c == b'\'' {
            let mut out = Vec::new();
            // Adjacent string literals concatenate.
            loop {
                let quote = self.src[self.pos];
                self.pos += 1;
                loop {
                    let Some(&ch) = self.src.get(self.pos) else {
                        return Err(self.err("unterminated string"));
                    };
                    self.pos += 1;
                    if ch == quote {
                        break;
                    }
                    if ch == b'\n' {
                        return Err(self.err("unterminated string"));
                    }
                    if ch == b'\\' {
                        self.escape(&mut out)?;
                    } else {
                        out.push(ch);
                    }
                }
                self.skip_space();
                if !matches!(self.src.get(self.pos), Some(b'"' | b'\'')) {
                    break;
                }
            }
            return Ok(Some(Tok::Str(String::from_utf8_lossy(&out).into_owned())));
        }
        self.pos += 1;
        Ok(Some(Tok::Sym(c as char)))
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let Some(&e) = self.src.get(self.pos) else {
            return Err(self.err("unterminated string"));
        };
        self.pos += 1;
        match e {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'x' | b'X' => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2
                    && let Some(d) = self
                        .src
                        .get(self.pos)
                        .and_then(|c| (*c as char).to_digit(16))
                {
                    v = v * 16 + d;
                    self.pos += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                let mut n = 1;
                while n < 3
                    && let Some(d @ b'0'..=b'7') = self.src.get(self.pos).copied()
                {
                    v = v * 8 + u32::from(d - b'0');
                    self.pos += 1;
                    n += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
        Ok(())
    }

    fn text(&self, start: usize) -> String {
        String::from_utf8_lossy(&self.src[start..self.pos]).into_owned()
    }

    fn peek(&mut self) -> Result<Option<&Tok>, ParseError> {
        if self.peeked.is_none() {
            let line = self.line;
            if let Some(t) = self.lex()? {
                self.peeked = Some((t, line));
            }
        }
        Ok(self.peeked.as_ref().map(|(t, _)| t))
    }

    fn next(&mut self) -> Result<Tok, ParseError> {
        self.peek()?;
        match self.peeked.take() {
            Some((t, _)) => Ok(t),
            None => Err(self.err("unexpected end of schema")),
        }
    }

    fn eat(&mut self, c: char) -> Result<bool, ParseError> {
        if self.peek()? == Some(&Tok::Sym(c)) {
            self.peeked = None;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, c: char) -> Result<(), ParseError> {
        match self.next()? {
            Tok::Sym(s) if s == c => Ok(()),
            t => Err(self.err(format!("expected '{c}', found {t:?}"))),
        }
    }

    fn ident(&mut self) -> Result<String, ParseError> {
        match self.next()? {
            Tok::Ident(s) => Ok(s),
            t => Err(self.err(format!("expected a name, found {t:?}"))),
        }
    }

    /// A dotted name, optionally fully qualified (`.a.b.C`).
    fn dotted(&mut self) -> Result<String, ParseError> {
        let mut s = String::new();
        if self.eat('.')? {
            s.push('.');
        }
        s.push_str(&self.ident()?);
        while self.eat('.')? {
            s.push('.');
            s.push_str(&self.ident()?);
        }
        Ok(s)
    }

    fn int(&mut self) -> Result<i64, ParseError> {
        match self.next()? {
            Tok::Num(n) => parse_int(&n).ok_or_else(|| self.err(format!("bad number {n}"))),
            Tok::Ident(s) if s == "max" => Ok(536_870_911),
            t => Err(self.err(format!("expected a number, found {t:?}"))),
        }
    }

    /// Skips a balanced `{ … }` block whose `{` is next.
    fn skip_block(&mut self) -> Result<(), ParseError> {
        self.expect('{')?;
        let mut depth = 1;
        while depth > 0 {
            match self.next()? {
                Tok::Sym('{') => depth += 1,
                Tok::Sym('}') => depth -= 1,
                _ => {}
            }
        }
        Ok(())
    }

    /// Skips to the end of a statement (`;`), over nested blocks.
    fn skip_statement(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek()? {
                Some(Tok::Sym(';')) => {
                    self.next()?;
                    return Ok(());
                }
                Some(Tok::Sym('{')) => {
                    self.skip_block()?;
                    return Ok(());
                }
                Some(_) => {
                    self.next()?;
                }
                None => return Err(self.err("unexpected end of schema")),
            }
        }
    }
}

fn parse_int(n: &str) -> Option<i64> {
    let (neg, digits) = match n.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, n.strip_prefix('+').unwrap_or(n)),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(h, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

// ---------------------------------------------------------------------------------------
// The grammar.

fn parse_file(text: &str) -> Result<PFile, ParseError> {
    let mut lx = Lexer::new(text);
    let mut file = PFile {
        syntax: Syntax::Proto2,
        package: String::new(),
        imports: Vec::new(),
        types: Vec::new(),
    };
    while let Some(t) = lx.peek()?.cloned() {
        match t {
            Tok::Sym(';') => {
                lx.next()?;
            }
            Tok::Ident(kw) => {
                lx.next()?;
                match kw.as_str() {
                    "syntax" | "edition" => {
                        lx.expect('=')?;
                        let Tok::Str(s) = lx.next()? else {
                            return Err(lx.err("expected the syntax string"));
                        };
                        file.syntax = match s.as_str() {
                            "proto2" => Syntax::Proto2,
                            "proto3" => Syntax::Proto3,
                            other => return Err(lx.err(format!("unsupported syntax {other}"))),
                        };
                        lx.expect(';')?;
                    }
                    "package" => {
                        file.package = lx.dotted()?;
                        lx.expect(';')?;
                    }
                    "import" => {
                        if matches!(lx.peek()?, Some(Tok::Ident(m)) if m == "public" || m == "weak")
                        {
                            lx.next()?;
                        }
                        let Tok::Str(path) = lx.next()? else {
                            return Err(lx.err("expected an import path"));
                        };
                        file.imports.push(path);
                        lx.expect(';')?;
                    }
                    "option" => lx.skip_statement()?,
                    "message" => file.types.push(PType::Message(parse_message(&mut lx)?)),
                    "enum" => file.types.push(PType::Enum(parse_enum(&mut lx)?)),
                    "service" | "extend" => {
                        lx.dotted()?;
                        lx.skip_block()?;
                    }
                    other => return Err(lx.err(format!("unexpected '{other}'"))),
                }
            }
            t => return Err(lx.err(format!("unexpected {t:?}"))),
        }
    }
    Ok(file)
}

fn parse_message(lx: &mut Lexer<'_>) -> Result<PMessage, ParseError> {
    let name = lx.ident()?;
    let mut m = PMessage {
        name,
        fields: Vec::new(),
        oneofs: Vec::new(),
        types: Vec::new(),
        map_entry_option: None,
    };
    lx.expect('{')?;
    loop {
        let t = lx.peek()?.cloned();
        match t {
            None => return Err(lx.err("unexpected end of schema in a message")),
            Some(Tok::Sym('}')) => {
                lx.next()?;
                return Ok(m);
            }
            Some(Tok::Sym(';')) => {
                lx.next()?;
            }
            Some(Tok::Ident(kw)) => match kw.as_str() {
                "message" => {
                    lx.next()?;
                    m.types.push(PType::Message(parse_message(lx)?));
                }
                "enum" => {
                    lx.next()?;
                    m.types.push(PType::Enum(parse_enum(lx)?));
                }
                "option" => {
                    lx.next()?;
                    let (name, value) = parse_option_assignment(lx)?;
                    lx.expect(';')?;
                    if name == "map_entry" {
                        m.map_entry_option = Some(value == OptValue::Scalar("true".into()));
                    }
                }
                "reserved" | "extensions" => {
                    lx.next()?;
                    lx.skip_statement()?;
                }
                "extend" => {
                    lx.next()?;
                    lx.dotted()?;
                    lx.skip_block()?;
                }
                "oneof" => {
                    lx.next()?;
                    let name = lx.ident()?;
                    lx.expect('{')?;
                    let mut fields = Vec::new();
                    loop {
                        match lx.peek()? {
                            Some(Tok::Sym('}')) => {
                                lx.next()?;
                                break;
                            }
                            Some(Tok::Sym(';')) => {
                                lx.next()?;
                            }
                            Some(Tok::Ident(o)) if o == "option" => {
                                lx.next()?;
                                lx.skip_statement()?;
                            }
                            Some(Tok::Ident(g)) if g == "group" => {
                                lx.next()?;
                                skip_group(lx)?;
                            }
                            _ => fields.push(parse_field(lx, Label::None)?),
                        }
                    }
                    m.oneofs.push((name, fields));
                }
                "group" => {
                    lx.next()?;
                    skip_group(lx)?;
                }
                _ => {
                    let label = match kw.as_str() {
                        "optional" => Label::Optional,
                        "required" => Label::Required,
                        "repeated" => Label::Repeated,
                        _ => Label::None,
                    };
                    if label != Label::None {
                        lx.next()?;
                    }
                    // A group (`optional group G = 1 { … }`) is dropped, as Confluent's
                    // descriptor drops it; its data is then an unknown field.
                    if matches!(lx.peek()?, Some(Tok::Ident(g)) if g == "group") {
                        lx.next()?;
                        skip_group(lx)?;
                        continue;
                    }
                    m.fields.push(parse_field(lx, label)?);
                }
            },
            Some(Tok::Sym('.')) => m.fields.push(parse_field(lx, Label::None)?),
            Some(t) => return Err(lx.err(format!("unexpected {t:?} in a message"))),
        }
    }
}

/// Skips a group declaration after its `group` keyword: `Name = N [options] { … }`.
fn skip_group(lx: &mut Lexer<'_>) -> Result<(), ParseError> {
    while !matches!(lx.peek()?, Some(Tok::Sym('{')) | None) {
        lx.next()?;
    }
    lx.skip_block()
}

fn parse_field(lx: &mut Lexer<'_>, label: Label) -> Result<PField, ParseError> {
    let line = lx.line;
    let (type_name, map_kv) = if matches!(lx.peek()?, Some(Tok::Ident(m)) if m == "map") {
        lx.next()?;
        if lx.eat('<')? {
            let k = lx.dotted()?;
            lx.expect(',')?;
            let v = lx.dotted()?;
            lx.expect('>')?;
            ("map".to_string(), Some((k, v)))
        } else {
            ("map".to_string(), None)
        }
    } else {
        (lx.dotted()?, None)
    };
    let name = lx.ident()?;
    lx.expect('=')?;
    let number = lx.int()?;
    let number = i32::try_from(number).map_err(|_| lx.err(format!("bad field number {number}")))?;
    let mut options = Vec::new();
    if lx.eat('[')? {
        loop {
            options.push(parse_option_assignment(lx)?);
            if lx.eat(']')? {
                break;
            }
            lx.expect(',')?;
        }
    }
    lx.expect(';')?;
    Ok(PField {
        label,
        type_name,
        map_kv,
        name,
        number,
        options,
        line,
    })
}

/// `name = value` where name may be `(ext.name)` with a `.sub` path after it.
fn parse_option_assignment(lx: &mut Lexer<'_>) -> Result<(String, OptValue), ParseError> {
    let mut name = String::new();
    loop {
        if lx.eat('(')? {
            name.push('(');
            name.push_str(&lx.dotted()?);
            lx.expect(')')?;
            name.push(')');
        } else {
            name.push_str(&lx.ident()?);
        }
        if !lx.eat('.')? {
            break;
        }
        name.push('.');
    }
    lx.expect('=')?;
    let value = parse_opt_value(lx)?;
    Ok((name, value))
}

fn parse_opt_value(lx: &mut Lexer<'_>) -> Result<OptValue, ParseError> {
    Ok(match lx.next()? {
        Tok::Str(s) => OptValue::Str(s),
        Tok::Num(n) => OptValue::Scalar(n),
        Tok::Ident(i) => OptValue::Scalar(i),
        Tok::Sym('-') => match lx.next()? {
            Tok::Num(n) | Tok::Ident(n) => OptValue::Scalar(format!("-{n}")),
            t => return Err(lx.err(format!("unexpected {t:?} after '-'"))),
        },
        Tok::Sym('{') => OptValue::Aggregate(parse_aggregate_body(lx, '}')?),
        Tok::Sym('[') => {
            let mut items = Vec::new();
            if !lx.eat(']')? {
                loop {
                    items.push(parse_opt_value(lx)?);
                    if lx.eat(']')? {
                        break;
                    }
                    lx.expect(',')?;
                }
            }
            OptValue::List(items)
        }
        t => return Err(lx.err(format!("unexpected {t:?} in an option value"))),
    })
}

/// Text-format message fields up to `close`: `name: value`, `name { … }`, separated by
/// optional `,` or `;`.
fn parse_aggregate_body(
    lx: &mut Lexer<'_>,
    close: char,
) -> Result<Vec<(String, OptValue)>, ParseError> {
    let mut out = Vec::new();
    loop {
        if lx.eat(close)? {
            return Ok(out);
        }
        if lx.eat(',')? || lx.eat(';')? {
            continue;
        }
        let name = if lx.eat('[')? {
            let n = lx.dotted()?;
            lx.expect(']')?;
            n
        } else {
            lx.ident()?
        };
        let value = if lx.eat(':')? {
            parse_opt_value(lx)?
        } else if lx.eat('{')? {
            OptValue::Aggregate(parse_aggregate_body(lx, '}')?)
        } else if lx.eat('<')? {
            OptValue::Aggregate(parse_aggregate_body(lx, '>')?)
        } else {
            return Err(lx.err("expected ':' or '{' in an option value"));
        };
        out.push((name, value));
    }
}

fn parse_enum(lx: &mut Lexer<'_>) -> Result<PEnum, ParseError> {
    let name = lx.ident()?;
    let mut values = Vec::new();
    lx.expect('{')?;
    loop {
        match lx.next()? {
            Tok::Sym('}') => return Ok(PEnum { name, values }),
            Tok::Sym(';') => {}
            Tok::Ident(kw) if kw == "option" || kw == "reserved" => lx.skip_statement()?,
            Tok::Ident(value) => {
                lx.expect('=')?;
                let n = lx.int()?;
                let n = i32::try_from(n).map_err(|_| lx.err(format!("bad enum number {n}")))?;
                if lx.eat('[')? {
                    while !lx.eat(']')? {
                        lx.next()?;
                    }
                }
                lx.expect(';')?;
                values.push((value, n));
            }
            t => return Err(lx.err(format!("unexpected {t:?} in an enum"))),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Descriptors from parse trees.

#[derive(Default)]
struct Build {
    messages: Vec<MessageDesc>,
    enums: Vec<EnumDesc>,
    files: Vec<FileDesc>,
    symbols: HashMap<String, Sym>,
    /// Per message, what `define` still has to do: (file syntax, parse tree).
    pending: Vec<(Syntax, PMessage)>,
}

#[derive(Debug, Clone, Copy)]
enum Sym {
    Message(usize),
    Enum(usize),
}

/// `ProtobufSchema.toMapEntry`: `by_sku` → `BySkuEntry`, `counts` → `countsEntry`.
fn map_entry_name(field: &str) -> String {
    let base = if field.contains('_') {
        lower_underscore_to_upper_camel(field)
    } else {
        field.to_string()
    };
    format!("{base}Entry")
}

/// Guava's `LOWER_UNDERSCORE.to(UPPER_CAMEL, s)`.
fn lower_underscore_to_upper_camel(s: &str) -> String {
    let mut out = String::new();
    for word in s.split('_') {
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    out
}

/// Guava's `UPPER_CAMEL.to(LOWER_UNDERSCORE, s)`.
pub fn upper_camel_to_lower_underscore(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl Build {
    /// Registers every type name of a file (so references resolve in any order).
    fn declare_file(&mut self, f: &PFile) {
        let mut messages = Vec::new();
        let mut first_enum = None;
        for t in &f.types {
            match t {
                PType::Message(m) => messages.push(self.declare_message(f, &f.package, m)),
                PType::Enum(e) => {
                    let id = self.declare_enum(f, &f.package, e);
                    first_enum.get_or_insert(id);
                }
            }
        }
        self.files.push(FileDesc {
            package: f.package.clone(),
            messages,
            first_enum,
        });
    }

    fn qualify(scope: &str, name: &str) -> String {
        if scope.is_empty() {
            name.to_string()
        } else {
            format!("{scope}.{name}")
        }
    }

    fn declare_enum(&mut self, f: &PFile, scope: &str, e: &PEnum) -> usize {
        let full_name = Self::qualify(scope, &e.name);
        let id = self.enums.len();
        self.enums.push(EnumDesc {
            name: e.name.clone(),
            full_name: full_name.clone(),
            values: e.values.clone(),
            closed: f.syntax == Syntax::Proto2,
        });
        self.symbols.insert(full_name, Sym::Enum(id));
        id
    }

    fn declare_message(&mut self, f: &PFile, scope: &str, m: &PMessage) -> usize {
        let full_name = Self::qualify(scope, &m.name);
        let id = self.messages.len();
        self.messages.push(MessageDesc {
            name: m.name.clone(),
            full_name: full_name.clone(),
            syntax: f.syntax,
            fields: Vec::new(),
            oneofs: Vec::new(),
            nested_messages: Vec::new(),
            map_entry: m.map_entry_option.unwrap_or(false),
            by_number: HashMap::new(),
        });
        self.pending.push((f.syntax, m.clone()));
        self.symbols.insert(full_name.clone(), Sym::Message(id));
        let mut nested = Vec::new();
        for t in &m.types {
            match t {
                PType::Message(n) => nested.push(self.declare_message(f, &full_name, n)),
                PType::Enum(e) => {
                    self.declare_enum(f, &full_name, e);
                }
            }
        }
        // Map fields become nested entry messages (after the declared ones).
        for field in m.fields.iter() {
            if let Some((k, v)) = &field.map_kv {
                let entry = map_entry_name(&field.name);
                let entry_full = Self::qualify(&full_name, &entry);
                let eid = self.messages.len();
                let key = PField {
                    label: Label::None,
                    type_name: k.clone(),
                    map_kv: None,
                    name: "key".into(),
                    number: 1,
                    options: Vec::new(),
                    line: field.line,
                };
                let value = PField {
                    name: "value".into(),
                    number: 2,
                    type_name: v.clone(),
                    ..key.clone()
                };
                self.messages.push(MessageDesc {
                    name: entry.clone(),
                    full_name: entry_full.clone(),
                    syntax: f.syntax,
                    fields: Vec::new(),
                    oneofs: Vec::new(),
                    nested_messages: Vec::new(),
                    map_entry: true,
                    by_number: HashMap::new(),
                });
                self.pending.push((
                    f.syntax,
                    PMessage {
                        name: entry,
                        fields: vec![key, value],
                        oneofs: Vec::new(),
                        types: Vec::new(),
                        map_entry_option: Some(true),
                    },
                ));
                self.symbols.insert(entry_full, Sym::Message(eid));
            }
        }
        self.messages[id].nested_messages = nested;
        id
    }

    /// Fills in every declared message's fields, now that all names are known.
    fn define(&mut self) -> Result<(), ParseError> {
        let pending = std::mem::take(&mut self.pending);
        for (id, (syntax, m)) in pending.iter().enumerate() {
            let scope = self.messages[id].full_name.clone();
            let mut fields = Vec::new();
            let mut oneofs = Vec::new();
            for (name, members) in &m.oneofs {
                let o = oneofs.len();
                let mut idx = Vec::new();
                for pf in members {
                    idx.push(fields.len());
                    let mut fd = self.field(&scope, *syntax, pf)?;
                    fd.oneof = Some(o);
                    fields.push(fd);
                }
                oneofs.push(OneofDesc {
                    name: name.clone(),
                    fields: idx,
                    synthetic: false,
                });
            }
            for pf in &m.fields {
                let mut fd = self.field(&scope, *syntax, pf)?;
                if pf.label == Label::Optional && *syntax == Syntax::Proto3 {
                    fd.proto3_optional = true;
                    fd.oneof = Some(oneofs.len());
                    oneofs.push(OneofDesc {
                        name: format!("_{}", pf.name),
                        fields: vec![fields.len()],
                        synthetic: true,
                    });
                }
                fields.push(fd);
            }
            let msg = &mut self.messages[id];
            msg.by_number = fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.number, i))
                .collect();
            msg.fields = fields;
            msg.oneofs = oneofs;
        }
        Ok(())
    }

    fn resolve(&self, scope: &str, name: &str, line: usize) -> Result<Sym, ParseError> {
        if let Some(abs) = name.strip_prefix('.') {
            return self.symbols.get(abs).copied().ok_or_else(|| ParseError {
                line,
                message: format!("type {name} is not defined"),
            });
        }
        let mut s = scope;
        loop {
            let candidate = Self::qualify(s, name);
            if let Some(sym) = self.symbols.get(&candidate) {
                return Ok(*sym);
            }
            if s.is_empty() {
                break;
            }
            s = s.rfind('.').map_or("", |i| &s[..i]);
        }
        Err(ParseError {
            line,
            message: format!("type {name} is not defined"),
        })
    }

    fn field(&self, scope: &str, syntax: Syntax, pf: &PField) -> Result<FieldDesc, ParseError> {
        let (label, ty) = if pf.map_kv.is_some() {
            let entry = Self::qualify(scope, &map_entry_name(&pf.name));
            let Some(Sym::Message(id)) = self.symbols.get(&entry).copied() else {
                return Err(ParseError {
                    line: pf.line,
                    message: format!("map field {} has no entry", pf.name),
                });
            };
            (Label::Repeated, FieldType::Message(id))
        } else if let Some(t) = FieldType::scalar(&pf.type_name) {
            (pf.label, t)
        } else {
            let ty = match self.resolve(scope, &pf.type_name, pf.line)? {
                Sym::Message(id) => FieldType::Message(id),
                Sym::Enum(id) => FieldType::Enum(id),
            };
            (pf.label, ty)
        };
        // proto2 fields without a label in a file that is proto2 are only map parts and
        // oneof members; they are optional there.
        let label = if syntax == Syntax::Proto2 && label == Label::None {
            Label::Optional
        } else {
            label
        };
        let mut default = None;
        let mut meta_params = Vec::new();
        let mut meta_doc = None;
        for (name, value) in &pf.options {
            match name.as_str() {
                "default" => {
                    default = Some(match value {
                        OptValue::Str(s) | OptValue::Scalar(s) => s.clone(),
                        _ => String::new(),
                    })
                }
                "(confluent.field_meta)" => meta(value, &mut meta_doc, &mut meta_params),
                n if n.starts_with("(confluent.field_meta).") => {
                    let sub = &n["(confluent.field_meta).".len()..];
                    meta(
                        &OptValue::Aggregate(vec![(sub.to_string(), value.clone())]),
                        &mut meta_doc,
                        &mut meta_params,
                    );
                }
                _ => {}
            }
        }
        Ok(FieldDesc {
            name: pf.name.clone(),
            number: pf.number,
            label,
            ty,
            oneof: None,
            proto3_optional: false,
            default,
            meta_params,
            meta_doc,
        })
    }
}

/// Reads Confluent's `Meta { doc, map<string,string> params }` from an option value.
fn meta(value: &OptValue, doc: &mut Option<String>, params: &mut Vec<(String, String)>) {
    let OptValue::Aggregate(members) = value else {
        return;
    };
    let text = |v: &OptValue| match v {
        OptValue::Str(s) | OptValue::Scalar(s) => Some(s.clone()),
        _ => None,
    };
    for (name, v) in members {
        match name.as_str() {
            "doc" => *doc = text(v),
            "params" => {
                let entries: Vec<&OptValue> = match v {
                    OptValue::List(items) => items.iter().collect(),
                    other => vec![other],
                };
                for e in entries {
                    if let OptValue::Aggregate(kv) = e {
                        let get =
                            |k: &str| kv.iter().find(|(n, _)| n == k).and_then(|(_, v)| text(v));
                        if let (Some(k), Some(v)) = (get("key"), get("value")) {
                            params.retain(|(pk, _)| *pk != k);
                            params.push((k, v));
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_fields_as_the_descriptor_does() {
        let s = ProtoSchema::parse(
            "syntax = \"proto3\";\npackage acme;\nmessage Event {\n  string id = 1;\n  oneof payload { string text = 2; Inner inner = 4; }\n  optional int32 n = 5;\n  map<string, Inner> by_key = 6;\n}\nmessage Inner { bool flag = 1; }\n",
        )
        .unwrap();
        let e = &s.messages[s.first_message().unwrap()];
        assert_eq!(e.full_name, "acme.Event");
        let names: Vec<&str> = e.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["text", "inner", "id", "n", "by_key"]);
        assert_eq!(e.oneofs.len(), 2);
        assert!(e.oneofs[1].synthetic);
        let FieldType::Message(entry) = e.fields[4].ty else {
            panic!("map entry")
        };
        assert_eq!(s.messages[entry].full_name, "acme.Event.ByKeyEntry");
        assert!(s.messages[entry].map_entry);
        let FieldType::Message(inner) = e.fields[1].ty else {
            panic!("inner")
        };
        assert_eq!(s.messages[inner].full_name, "acme.Inner");
    }

    #[test]
    fn reads_confluent_field_meta() {
        let s = ProtoSchema::parse(
            "syntax = \"proto3\";\nimport \"confluent/meta.proto\";\nimport \"confluent/type/decimal.proto\";\nmessage P {\n  confluent.type.Decimal amount = 1 [(confluent.field_meta) = {\n    params: [\n      {\n        key: \"precision\",\n        value: \"8\"\n      },\n      { key: \"scale\", value: \"3\" }\n    ], doc: \"d\"\n  }];\n}\n",
        )
        .unwrap();
        let f = &s.messages[s.first_message().unwrap()].fields[0];
        assert_eq!(
            f.meta_params,
            [
                ("precision".into(), "8".into()),
                ("scale".into(), "3".into())
            ]
        );
        assert_eq!(f.meta_doc.as_deref(), Some("d"));
    }

    #[test]
    fn names_map_entries_as_confluent_does() {
        assert_eq!(map_entry_name("counts"), "countsEntry");
        assert_eq!(map_entry_name("by_sku"), "BySkuEntry");
        assert_eq!(upper_camel_to_lower_underscore("BySku"), "by_sku");
        assert_eq!(upper_camel_to_lower_underscore("counts"), "counts");
    }

    #[test]
    fn groups_are_dropped_as_confluent_drops_them() {
        let s = ProtoSchema::parse(
            "syntax = \"proto2\";\nmessage A {\n  optional group G = 1 { optional int32 x = 2; }\n  optional int32 b = 3;\n  oneof o { group H = 4 { optional int32 y = 5; } string c = 6; }\n}\n",
        )
        .unwrap();
        let a = &s.messages[s.first_message().unwrap()];
        let names: Vec<&str> = a.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["c", "b"]);
    }

    #[test]
    fn an_unknown_type_is_an_error() {
        let e =
            ProtoSchema::parse("syntax = \"proto3\";\nmessage A { Missing m = 1; }\n").unwrap_err();
        assert!(e.message.contains("Missing"), "{e}");
    }
}
