//! A small blocking HTTP/1.1 client for the workers' own calls to each other: requests
//! forwarded to the leader and task configs posted to it (`User-Agent: kafka-connect`, as
//! Kafka's workers send). Bodies by Content-Length or chunked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("bad URL {url}")]
    Url { url: String },
    #[error("{method} {url}: {source}")]
    Io {
        method: String,
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{method} {url}: malformed response: {message}")]
    Response {
        method: String,
        url: String,
        message: String,
    },
}

/// An answer: status, headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `http://host:port/` + `path_and_query` (which starts with `/`).
pub fn join(base: &str, path_and_query: &str) -> String {
    format!("{}{path_and_query}", base.trim_end_matches('/'))
}

/// Sends one request and reads the whole answer.
pub fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
    timeout: Duration,
) -> Result<HttpResponse, HttpError> {
    let bad = || HttpError::Url {
        url: url.to_string(),
    };
    let rest = url.strip_prefix("http://").ok_or_else(bad)?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() {
        return Err(bad());
    }
    let io = |source| HttpError::Io {
        method: method.to_string(),
        url: url.to_string(),
        source,
    };
    let addr = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let stream = TcpStream::connect(&addr).map_err(io)?;
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: kafka-connect\r\nAccept: application/json\r\nConnection: close\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let mut w = &stream;
    w.write_all(head.as_bytes()).map_err(io)?;
    if let Some(b) = body {
        w.write_all(b).map_err(io)?;
    }
    w.flush().map_err(io)?;
    let malformed = |message: &str| HttpError::Response {
        method: method.to_string(),
        url: url.to_string(),
        message: message.to_string(),
    };
    let mut r = BufReader::new(&stream);
    let mut line = String::new();
    r.read_line(&mut line).map_err(io)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| malformed("no status line"))?;
    let mut headers_out = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).map_err(io)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers_out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let find = |name: &str| {
        headers_out
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let mut body_out = Vec::new();
    if status == 204 || status == 304 || method == "HEAD" {
        // no body
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            line.clear();
            r.read_line(&mut line).map_err(io)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| malformed("bad chunk size"))?;
            if size == 0 {
                // trailers until the empty line
                loop {
                    line.clear();
                    if r.read_line(&mut line).map_err(io)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0u8; size];
            r.read_exact(&mut chunk).map_err(io)?;
            body_out.extend_from_slice(&chunk);
            line.clear();
            r.read_line(&mut line).map_err(io)?;
        }
    } else if let Some(len) = find("content-length") {
        let len: usize = len.parse().map_err(|_| malformed("bad Content-Length"))?;
        body_out.resize(len, 0);
        r.read_exact(&mut body_out).map_err(io)?;
    } else {
        r.read_to_end(&mut body_out).map_err(io)?;
    }
    Ok(HttpResponse {
        status,
        headers: headers_out,
        body: body_out,
    })
}
