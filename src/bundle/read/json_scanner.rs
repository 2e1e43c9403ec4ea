//! The JSON scanner behind both JSON readers, our own rather than serde_json's so that numbers
//! keep the text they were written with, a record's cells are filled straight from the bytes,
//! and an error knows the byte offset it stopped at.

use crate::bundle::schema::FieldDef;
use crate::bundle::value::RawValue;

const MAX_DEPTH: u32 = 128;

#[derive(Debug, PartialEq)]
pub(super) enum JsonErr {
    /// The input ended inside a value.
    Eof,
    /// A syntax error at a byte offset.
    Syntax { at: usize, msg: &'static str },
}

fn syntax<T>(at: usize, msg: &'static str) -> Result<T, JsonErr> {
    Err(JsonErr::Syntax { at, msg })
}

/// A JSON scanner over bytes that converts values straight into [`RawValue`]s.
pub(super) struct Json<'a> {
    s: &'a [u8],
    pub(super) pos: usize,
    depth: u32,
    /// Offset of the first invalid UTF-8 byte met in a string since this was last cleared.
    pub(super) bad_utf8: Option<usize>,
}

impl<'a> Json<'a> {
    pub(super) fn new(s: &'a [u8]) -> Json<'a> {
        Json {
            s,
            pos: 0,
            depth: 0,
            bad_utf8: None,
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub(super) fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn enter(&mut self) -> Result<(), JsonErr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return syntax(self.pos, "values are nested too deeply");
        }
        self.pos += 1;
        Ok(())
    }

    /// One element: `Some(cells)` for an object, `None` for any other (valid) value.
    pub(super) fn element(
        &mut self,
        fields: &[FieldDef],
    ) -> Result<Option<Vec<Option<RawValue>>>, JsonErr> {
        if self.peek() == Some(b'{') {
            self.record(fields).map(Some)
        } else {
            self.raw(None).map(|()| None)
        }
    }

    /// An object read as a record: known keys fill their cells (the first of repeated keys
    /// wins), other keys are skipped.
    fn record(&mut self, fields: &[FieldDef]) -> Result<Vec<Option<RawValue>>, JsonErr> {
        self.enter()?;
        let mut cells = vec![None; fields.len()];
        let mut seen = vec![false; fields.len()];
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(cells);
        }
        loop {
            self.ws();
            match self.peek() {
                Some(b'"') => {}
                Some(_) => return syntax(self.pos, "expected a string key"),
                None => return Err(JsonErr::Eof),
            }
            let (start, end, escaped) = self.string()?;
            let idx = if escaped {
                let key = self.decode(start, end, true);
                fields.iter().position(|f| f.name == key)
            } else {
                let key = self.s.get(start..end).unwrap_or_default();
                fields.iter().position(|f| f.name.as_bytes() == key)
            };
            self.colon()?;
            match idx {
                Some(i) if !seen[i] => {
                    seen[i] = true;
                    cells[i] = self.value()?;
                }
                _ => self.raw(None)?,
            }
            if self.close(b'}')? {
                return Ok(cells);
            }
        }
    }

    fn colon(&mut self) -> Result<(), JsonErr> {
        self.ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                self.ws();
                Ok(())
            }
            Some(_) => syntax(self.pos, "expected `:`"),
            None => Err(JsonErr::Eof),
        }
    }

    /// After a member or item: `,` (false, more follow) or the closing bracket (true).
    fn close(&mut self, bracket: u8) -> Result<bool, JsonErr> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) if b == bracket => {
                self.pos += 1;
                self.depth -= 1;
                Ok(true)
            }
            Some(_) if bracket == b'}' => syntax(self.pos, "expected `,` or `}`"),
            Some(_) => syntax(self.pos, "expected `,` or `]`"),
            None => Err(JsonErr::Eof),
        }
    }

    /// A value converted to a raw cell: `null` and `""` are missing.
    fn value(&mut self) -> Result<Option<RawValue>, JsonErr> {
        match self.peek() {
            None => Err(JsonErr::Eof),
            Some(b'"') => {
                let (start, end, escaped) = self.string()?;
                if start == end {
                    Ok(None)
                } else {
                    Ok(Some(RawValue::Text(self.decode(start, end, escaped))))
                }
            }
            Some(b'[') => {
                self.enter()?;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    self.depth -= 1;
                } else {
                    loop {
                        self.ws();
                        if let Some(item) = self.value()? {
                            items.push(item);
                        }
                        if self.close(b']')? {
                            break;
                        }
                    }
                }
                Ok(Some(RawValue::Array(items)))
            }
            Some(b'{') => {
                let mut text = String::new();
                self.raw(Some(&mut text))?;
                Ok(Some(RawValue::Other(text)))
            }
            Some(b't') => self.literal("true").map(|()| Some(RawValue::Bool(true))),
            Some(b'f') => self.literal("false").map(|()| Some(RawValue::Bool(false))),
            Some(b'n') => self.literal("null").map(|()| None),
            Some(b'-' | b'0'..=b'9') => {
                let (start, end) = self.number()?;
                let text = String::from_utf8_lossy(self.s.get(start..end).unwrap_or_default());
                Ok(Some(RawValue::Number(text.into_owned())))
            }
            Some(_) => syntax(self.pos, "expected a value"),
        }
    }

    /// Scans any value; writes it as compact JSON to `out` when given (strings keep their
    /// escapes as written, numbers their text).
    fn raw(&mut self, mut out: Option<&mut String>) -> Result<(), JsonErr> {
        let start = self.pos;
        match self.peek() {
            None => return Err(JsonErr::Eof),
            Some(b'"') => {
                self.string()?;
            }
            Some(open @ (b'[' | b'{')) => {
                let close = if open == b'[' { b']' } else { b'}' };
                self.enter()?;
                if let Some(out) = out.as_deref_mut() {
                    out.push(char::from(open));
                }
                self.ws();
                if self.peek() == Some(close) {
                    self.pos += 1;
                    self.depth -= 1;
                } else {
                    loop {
                        self.ws();
                        if open == b'{' {
                            if self.peek() != Some(b'"') {
                                return match self.peek() {
                                    None => Err(JsonErr::Eof),
                                    Some(_) => syntax(self.pos, "expected a string key"),
                                };
                            }
                            self.raw(out.as_deref_mut())?;
                            self.colon()?;
                            if let Some(out) = out.as_deref_mut() {
                                out.push(':');
                            }
                        }
                        self.raw(out.as_deref_mut())?;
                        let done = self.close(close)?;
                        if let Some(out) = out.as_deref_mut() {
                            out.push(if done { char::from(close) } else { ',' });
                        }
                        if done {
                            break;
                        }
                    }
                    return Ok(());
                }
                if let Some(out) = out.as_deref_mut() {
                    out.push(char::from(close));
                }
                return Ok(());
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
            }
            Some(_) => return syntax(self.pos, "expected a value"),
        }
        if let Some(out) = out {
            out.push_str(&String::from_utf8_lossy(
                self.s.get(start..self.pos).unwrap_or_default(),
            ));
        }
        Ok(())
    }

    fn literal(&mut self, word: &'static str) -> Result<(), JsonErr> {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else if word.as_bytes().starts_with(rest) {
            Err(JsonErr::Eof)
        } else {
            syntax(self.pos, "expected a value")
        }
    }

    /// A number per the JSON grammar; returns its byte range.
    fn number(&mut self) -> Result<(usize, usize), JsonErr> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            Some(_) => return syntax(self.pos, "invalid number"),
            None => return Err(JsonErr::Eof),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        Ok((start, self.pos))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), JsonErr> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => syntax(self.pos, "invalid number"),
            None => Err(JsonErr::Eof),
        }
    }

    /// Scans a string at its opening quote; returns the byte range between the quotes and
    /// whether it holds escapes. Invalid UTF-8 is noted in `bad_utf8`, not an error.
    fn string(&mut self) -> Result<(usize, usize, bool), JsonErr> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let rest = self.s.get(self.pos..).unwrap_or_default();
            let Some(i) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                return Err(JsonErr::Eof);
            };
            self.pos += i;
            match rest[i] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    match rest.get(i + 1) {
                        None => return Err(JsonErr::Eof),
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 2;
                        }
                        Some(b'u') => {
                            for k in 2..6 {
                                match rest.get(i + k) {
                                    None => return Err(JsonErr::Eof),
                                    Some(b) if b.is_ascii_hexdigit() => {}
                                    Some(_) => {
                                        return syntax(self.pos + k, "invalid `\\u` escape");
                                    }
                                }
                            }
                            self.pos += 6;
                        }
                        Some(_) => return syntax(self.pos + 1, "invalid escape in a string"),
                    }
                }
                _ => return syntax(self.pos, "control character in a string"),
            }
        }
        let end = self.pos;
        self.pos += 1;
        if self.bad_utf8.is_none()
            && let Err(err) = std::str::from_utf8(self.s.get(start..end).unwrap_or_default())
        {
            self.bad_utf8 = Some(start + err.valid_up_to());
        }
        Ok((start, end, escaped))
    }

    /// The text of a scanned string (escapes already checked by [`Json::string`]).
    fn decode(&self, start: usize, end: usize, escaped: bool) -> String {
        let raw = self.s.get(start..end).unwrap_or_default();
        if !escaped {
            return String::from_utf8_lossy(raw).into_owned();
        }
        let mut out = Vec::with_capacity(raw.len());
        let mut i = 0;
        while let Some(&b) = raw.get(i) {
            if b != b'\\' {
                out.push(b);
                i += 1;
                continue;
            }
            let unescaped = match raw.get(i + 1) {
                Some(b'b') => b'\x08',
                Some(b'f') => b'\x0c',
                Some(b'n') => b'\n',
                Some(b'r') => b'\r',
                Some(b't') => b'\t',
                Some(b'u') => {
                    let mut code = hex4(raw, i + 2);
                    i += 6;
                    if (0xD800..0xDC00).contains(&code) && raw.get(i..i + 2) == Some(b"\\u") {
                        let low = hex4(raw, i + 2);
                        if (0xDC00..0xE000).contains(&low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            i += 6;
                        }
                    }
                    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    continue;
                }
                Some(&other) => other,
                None => break,
            };
            out.push(unescaped);
            i += 2;
        }
        String::from_utf8(out)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned())
    }
}

fn hex4(raw: &[u8], at: usize) -> u32 {
    raw.get(at..at + 4)
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| u32::from_str_radix(h, 16).ok())
        .unwrap_or(0xFFFD)
}
