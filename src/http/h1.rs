//! HTTP/1.1 on one connection, written for a load generator.
//!
//! hyper's HTTP/1.1 client runs each connection in a task of its own, behind a channel, with an
//! 8 KiB write buffer and an 8 KiB read buffer held for the connection's whole life: at 10,000
//! users waiting on a slow page that was most of their memory, and the hand-off between the
//! user's task and the connection's task was a good share of the CPU per request. Here the
//! user's own task writes the request and reads the answer; a plain connection holds no
//! buffer while it waits (the read buffer is taken when the socket turns readable and given
//! back when the answer is read), and the response head is parsed by `httparse`, the parser
//! hyper itself uses.
//!
//! Framing follows RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked when the last
//! transfer coding says so; `Content-Length` otherwise; else the body runs to the close. A
//! connection is kept for the next request only when the answer was read exactly to its end
//! and both sides keep it alive.

use std::io::{self, Write as _};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// How much one read asks for.
const READ_CHUNK: usize = 8 << 10;
/// The largest response head accepted (hyper's default limit is about 400 KiB; real heads are
/// a few hundred bytes, and a head that never ends is a fault to report, not to buffer).
const MAX_HEAD: usize = 64 << 10;
/// Header lines in one response head (hyper's default).
const MAX_HEADERS: usize = 100;
/// Trailer section after the last chunk.
const MAX_TRAILERS: usize = 16 << 10;

pub enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// One HTTP/1.1 connection, between exchanges or in one.
pub struct H1 {
    io: Io,
    /// Bytes read and not used yet, from `at`. Empty, and without allocation, between exchanges
    /// unless `keep_buffer`.
    buf: Vec<u8>,
    at: usize,
    /// Keep the read buffer between exchanges: a shared pool's few connections are always busy,
    /// a user's own connection mostly waits.
    keep_buffer: bool,
    /// Can carry another request: the last answer was read to its end and nobody asked to close.
    open: bool,
}

/// Why an exchange did not complete.
#[derive(Debug)]
pub enum Failure {
    /// The connection ended before the exchange did; `what` says where.
    Closed(&'static str),
    Io(io::Error),
    /// Bytes that are not the HTTP/1.1 expected.
    Malformed(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

/// A response head, and how its body is framed.
pub struct Head {
    pub status: u16,
    pub version: Version,
    pub headers: HeaderMap,
    framing: Framing,
    keep_alive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    Close,
}

impl H1 {
    pub fn new(io: Io, keep_buffer: bool) -> Self {
        H1 { io, buf: Vec::new(), at: 0, keep_buffer, open: true }
    }

    /// Whether this connection cannot carry a request: closed by us after the last exchange, or
    /// by the server since (the socket reads as ended, or holds bytes nobody asked for). Looks
    /// without waiting.
    pub fn is_closed(&mut self) -> bool {
        if !self.open {
            return true;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut byte = [0u8; 1];
        let mut peeked = ReadBuf::new(&mut byte);
        let tcp = match &self.io {
            Io::Plain(tcp) => tcp,
            Io::Tls(tls) => &tls.get_ref().0,
        };
        let closed = match tcp.poll_peek(&mut cx, &mut peeked) {
            Poll::Pending => false,
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => true,
            // TLS 1.3 servers send session tickets after the handshake: read through TLS, which
            // takes them in; anything else that comes out (close_notify, data) ends it.
            Poll::Ready(Ok(_)) => match &mut self.io {
                Io::Plain(_) => true,
                Io::Tls(tls) => {
                    let mut scratch = [0u8; 64];
                    let mut read = ReadBuf::new(&mut scratch);
                    !matches!(Pin::new(&mut **tls).poll_read(&mut cx, &mut read), Poll::Pending)
                }
            },
        };
        if closed {
            self.open = false;
        }
        closed
    }

    /// Write one request (its URI's path in the request line, `host` unless it has its own).
    pub async fn send(&mut self, request: &http::Request<Bytes>, host: &HeaderValue) -> Result<(), Failure> {
        let body = request.body();
        let mut out = Vec::with_capacity(128 + request.headers().len() * 48 + body.len().min(16 << 10));
        write_head(&mut out, request, host, body.len());
        if body.len() <= 16 << 10 {
            out.extend_from_slice(body);
            self.write(&out).await?;
        } else {
            self.write(&out).await?;
            self.write(body).await?;
        }
        if request.headers().get(CONNECTION).is_some_and(|v| has_token(v, "close")) {
            self.open = false;
        }
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.io {
            Io::Plain(tcp) => tcp.write_all(bytes).await,
            Io::Tls(tls) => {
                tls.write_all(bytes).await?;
                tls.flush().await
            }
        }
    }

    /// Read the final response head to the request of `method` (informational 1xx heads are
    /// passed over).
    pub async fn read_head(&mut self, method: &Method) -> Result<Head, Failure> {
        loop {
            match self.parse_head(method)? {
                Some(head) if (100..200).contains(&head.status) && head.status != 101 => continue,
                Some(head) => {
                    if !head.keep_alive {
                        self.open = false;
                    }
                    return Ok(head);
                }
                None if self.buf.len() - self.at > MAX_HEAD => {
                    return Err(Failure::Malformed(format!("a response head longer than {} KiB", MAX_HEAD >> 10)))
                }
                None => {
                    if self.read_more().await? == 0 {
                        let what = if self.buf.len() == self.at {
                            "the connection closed before the answer"
                        } else {
                            "the connection closed in the middle of the response head"
                        };
                        return Err(Failure::Closed(what));
                    }
                }
            }
        }
    }

    /// The head at the start of the buffer, once it is all there (and consumed).
    fn parse_head(&mut self, method: &Method) -> Result<Option<Head>, Failure> {
        let mut lines = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut lines);
        let len = match response.parse(&self.buf[self.at..]) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(e) => return Err(Failure::Malformed(format!("not an HTTP/1.1 response ({e})"))),
        };
        let status = response.code.unwrap_or(0);
        let version = if response.version == Some(0) { Version::HTTP_10 } else { Version::HTTP_11 };
        let mut headers = HeaderMap::with_capacity(response.headers.len());
        for line in response.headers.iter() {
            let name = HeaderName::from_bytes(line.name.as_bytes());
            let value = HeaderValue::from_bytes(line.value);
            match (name, value) {
                (Ok(name), Ok(value)) => {
                    headers.append(name, value);
                }
                _ => return Err(Failure::Malformed(format!("an invalid header line `{}`", line.name))),
            }
        }
        self.at += len;
        let framing = framing(method, status, &headers)?;
        let keep_alive = framing != Framing::Close
            && !(headers.contains_key(TRANSFER_ENCODING) && headers.contains_key(CONTENT_LENGTH))
            && match headers.get(CONNECTION) {
                Some(v) if has_token(v, "close") => false,
                Some(v) if has_token(v, "keep-alive") => true,
                _ => version == Version::HTTP_11,
            };
        Ok(Some(Head { status, version, headers, framing, keep_alive }))
    }

    /// Read the body of `head` to its end, handing each piece to `data`; returns its size.
    pub async fn read_body(&mut self, head: &Head, mut data: impl FnMut(&[u8])) -> Result<u64, Failure> {
        let size = match head.framing {
            Framing::Empty => 0,
            Framing::Length(len) => {
                self.read_exactly(len, &mut data, "the body ended before its Content-Length").await?;
                len
            }
            Framing::Close => {
                let mut size = 0u64;
                loop {
                    size += self.take_buffered(u64::MAX, &mut data);
                    if self.read_more().await? == 0 {
                        break size;
                    }
                }
            }
            Framing::Chunked => self.read_chunked(&mut data).await?,
        };
        self.finish();
        Ok(size)
    }

    async fn read_chunked(&mut self, data: &mut impl FnMut(&[u8])) -> Result<u64, Failure> {
        let mut size = 0u64;
        loop {
            let chunk = loop {
                match httparse::parse_chunk_size(&self.buf[self.at..]) {
                    Ok(httparse::Status::Complete((line, chunk))) => {
                        self.at += line;
                        break chunk;
                    }
                    Ok(httparse::Status::Partial) => self.fill("the connection closed inside a chunked body").await?,
                    Err(_) => return Err(Failure::Malformed("a bad chunk size line in a chunked body".into())),
                }
            };
            if chunk == 0 {
                return self.skip_trailers().await.map(|()| size);
            }
            self.read_exactly(chunk, data, "the connection closed inside a chunk").await?;
            size += chunk;
            while self.buf.len() - self.at < 2 {
                self.fill("the connection closed inside a chunked body").await?;
            }
            if &self.buf[self.at..self.at + 2] != b"\r\n" {
                return Err(Failure::Malformed("a chunk longer than its size line said".into()));
            }
            self.at += 2;
        }
    }

    /// Pass over the trailer section that ends a chunked body, up to its empty line.
    async fn skip_trailers(&mut self) -> Result<(), Failure> {
        let mut skipped = 0usize;
        loop {
            match self.buf[self.at..].windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.at += 2;
                    return Ok(());
                }
                Some(line) => {
                    self.at += line + 2;
                    skipped += line + 2;
                }
                None => self.fill("the connection closed inside the trailers").await?,
            }
            if skipped > MAX_TRAILERS {
                return Err(Failure::Malformed(format!("trailers longer than {} KiB", MAX_TRAILERS >> 10)));
            }
        }
    }

    async fn read_exactly(
        &mut self,
        len: u64,
        data: &mut impl FnMut(&[u8]),
        short: &'static str,
    ) -> Result<(), Failure> {
        let mut left = len;
        loop {
            left -= self.take_buffered(left, data);
            if left == 0 {
                return Ok(());
            }
            self.fill(short).await?;
        }
    }

    /// Hand up to `most` buffered bytes to `data`; returns how many.
    fn take_buffered(&mut self, most: u64, data: &mut impl FnMut(&[u8])) -> u64 {
        let n = (self.buf.len() - self.at).min(usize::try_from(most).unwrap_or(usize::MAX));
        if n > 0 {
            data(&self.buf[self.at..self.at + n]);
            self.at += n;
        }
        n as u64
    }

    /// Read more, where the exchange cannot end.
    async fn fill(&mut self, closed: &'static str) -> Result<(), Failure> {
        match self.read_more().await? {
            0 => Err(Failure::Closed(closed)),
            _ => Ok(()),
        }
    }

    /// Read what the socket has into the buffer; 0 when the connection has ended. A plain
    /// connection waits for the socket to turn readable before it takes a buffer.
    async fn read_more(&mut self) -> io::Result<usize> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
        } else if self.at > self.buf.len() / 2 {
            self.buf.drain(..self.at);
            self.at = 0;
        }
        match &mut self.io {
            Io::Plain(tcp) => loop {
                tcp.readable().await?;
                self.buf.reserve(READ_CHUNK);
                if let Some(read) = read_draining(tcp, &mut self.buf) {
                    return read;
                }
            },
            Io::Tls(tls) => {
                self.buf.reserve(READ_CHUNK);
                tls.read_buf(&mut self.buf).await
            }
        }
    }

    /// The answer has been read to its end: anything after it was not asked for, so the
    /// connection is not reused; the buffer is given back unless kept.
    fn finish(&mut self) {
        if self.at != self.buf.len() {
            self.open = false;
        }
        self.at = 0;
        if self.keep_buffer {
            self.buf.clear();
        } else {
            self.buf = Vec::new();
        }
    }
}

/// Read what `tcp` has into the spare capacity of `buf`; `None` when it had nothing after all.
///
/// A read that comes back short has drained the socket, so it also clears the socket's
/// readiness, as tokio's own `poll_read` does: otherwise the readiness of this answer would
/// still be set when the next answer is awaited on this connection, and that wait would
/// begin with a read that finds nothing (one wasted `recvfrom` per request on a kept-alive
/// connection, measured as two reads per answer).
#[cfg(target_os = "linux")]
fn read_draining(tcp: &TcpStream, buf: &mut Vec<u8>) -> Option<io::Result<usize>> {
    let room = buf.capacity() - buf.len();
    let mut drained = None;
    let read = tcp.try_io(tokio::io::Interest::READABLE, || {
        let (n, _) = rustix::net::recv(tcp, rustix::buffer::spare_capacity(buf), rustix::net::RecvFlags::empty())?;
        if n > 0 && n < room {
            // Returned as "would block" only so that tokio clears the readiness.
            drained = Some(n);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(n)
    });
    match (read, drained) {
        (_, Some(n)) => Some(Ok(n)),
        (Err(e), None) if e.kind() == io::ErrorKind::WouldBlock => None,
        (read, None) => Some(read),
    }
}

/// Elsewhere (no rustix), a plain read: the next wait may begin with one that finds nothing.
#[cfg(not(target_os = "linux"))]
fn read_draining(tcp: &TcpStream, buf: &mut Vec<u8>) -> Option<io::Result<usize>> {
    match tcp.try_read_buf(buf) {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
        read => Some(read),
    }
}

/// The request line and headers, with `Host` and `Content-Length` when the request has none.
fn write_head(out: &mut Vec<u8>, request: &http::Request<Bytes>, host: &HeaderValue, body_len: usize) {
    let headers = request.headers();
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.uri().path_and_query().map_or("/", |p| p.as_str()).as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(HOST) {
        write_header(out, HOST.as_str(), host.as_bytes());
    }
    for (name, value) in headers {
        write_header(out, name.as_str(), value.as_bytes());
    }
    let expects_body = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH);
    if (body_len > 0 || expects_body) && !headers.contains_key(CONTENT_LENGTH) {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "content-length: {body_len}\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

fn write_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// How the body of a response with `status` to `method` is delimited (RFC 9112 §6.3).
fn framing(method: &Method, status: u16, headers: &HeaderMap) -> Result<Framing, Failure> {
    if method == Method::HEAD || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(last) = headers.get_all(TRANSFER_ENCODING).iter().next_back() {
        let chunked = last
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        return Ok(if chunked { Framing::Chunked } else { Framing::Close });
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.to_str().unwrap_or("x").split(',') {
            let n: u64 = part.trim().parse().map_err(|_| Failure::Malformed("an invalid Content-Length".into()))?;
            if length.is_some_and(|l| l != n) {
                return Err(Failure::Malformed("two different Content-Length values".into()));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// Whether a comma-separated header value holds `token` (case-insensitive).
fn has_token(value: &HeaderValue, token: &str) -> bool {
    value.to_str().is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A loopback server that answers each request it reads with the next of `answers`, each
    /// written in pieces of `piece` bytes (to cross read boundaries), then closes.
    async fn server(answers: Vec<&'static [u8]>, piece: usize) -> (H1, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for answer in answers {
                let mut request = Vec::new();
                while !request.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if socket.read(&mut byte).await.unwrap() == 0 {
                        return seen;
                    }
                    request.push(byte[0]);
                }
                seen.push(String::from_utf8(request).unwrap());
                for part in answer.chunks(piece) {
                    socket.write_all(part).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::task::yield_now().await;
                }
            }
            seen
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        (H1::new(Io::Plain(tcp), false), task)
    }

    fn get(path: &str) -> http::Request<Bytes> {
        http::Request::get(path).body(Bytes::new()).unwrap()
    }

    async fn exchange(conn: &mut H1, request: &http::Request<Bytes>) -> Result<(u16, Vec<u8>), Failure> {
        conn.send(request, &HeaderValue::from_static("target.test")).await?;
        let head = conn.read_head(request.method()).await?;
        let mut body = Vec::new();
        let size = conn.read_body(&head, |d| body.extend_from_slice(d)).await?;
        assert_eq!(size as usize, body.len());
        Ok((head.status, body))
    }

    #[tokio::test]
    async fn chunked_bodies_with_trailers_and_informational_heads_are_read_across_reads() {
        let answers: Vec<&[u8]> = vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast",
        ];
        let (mut conn, server) = server(answers, 3).await;
        assert_eq!(exchange(&mut conn, &get("/a?x=1")).await.unwrap(), (200, b"hello, world".to_vec()));
        assert!(!conn.is_closed(), "kept alive after a chunked body read to its end");
        assert_eq!(exchange(&mut conn, &get("/b")).await.unwrap(), (204, Vec::new()), "204 has no body");
        assert_eq!(exchange(&mut conn, &get("/c")).await.unwrap(), (200, b"last".to_vec()));
        let seen = server.await.unwrap();
        assert_eq!(seen.len(), 3, "three requests on one connection");
        assert!(seen[0].starts_with("GET /a?x=1 HTTP/1.1\r\nhost: target.test\r\n"), "{}", seen[0]);
        // The server closed after its last answer: the kept connection says so without waiting.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(conn.is_closed());
    }

    #[tokio::test]
    async fn a_post_says_its_length_and_connection_close_ends_reuse() {
        let (mut conn, server) =
            server(vec![b"HTTP/1.1 201 Created\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"], 64).await;
        let post = http::Request::post("/login").body(Bytes::from_static(b"{}")).unwrap();
        assert_eq!(exchange(&mut conn, &post).await.unwrap(), (201, b"ok".to_vec()));
        assert!(conn.is_closed(), "the server asked to close");
        let seen = server.await.unwrap();
        assert!(seen[0].starts_with("POST /login HTTP/1.1\r\n") && seen[0].contains("content-length: 2\r\n"));
    }

    #[tokio::test]
    async fn a_body_to_the_close_is_whole_and_a_short_one_is_closed() {
        let (mut conn, _server) = server(vec![b"HTTP/1.0 200 OK\r\n\r\nuntil the end"], 4).await;
        assert_eq!(exchange(&mut conn, &get("/")).await.unwrap(), (200, b"until the end".to_vec()));
        assert!(conn.is_closed());
        let (mut conn, _server) = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"], 64).await;
        assert!(matches!(exchange(&mut conn, &get("/")).await, Err(Failure::Closed(_))));
    }

    #[tokio::test]
    async fn malformed_answers_are_named() {
        for answer in [
            &b"SSH-2.0-OpenSSH_9.6\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n0\r\n\r\n",
        ] {
            let (mut conn, _server) = server(vec![answer], 64).await;
            let got = exchange(&mut conn, &get("/")).await;
            assert!(matches!(got, Err(Failure::Malformed(_))), "{:?}", String::from_utf8_lossy(answer));
        }
    }
}
