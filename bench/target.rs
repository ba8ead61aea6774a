//! `bench-target`: the minimal HTTP server the benchmark suite loads, so that what is measured
//! is the generator, not the target.
//!
//! It answers every request at once with `200 OK` and a 13-byte body, on one thread (the suite
//! pins it to its own core). A request is anything ending in an empty line: the suite sends
//! bodiless GETs, so counting `\r\n\r\n` is exact, and pipelined requests are answered in one
//! write. It listens on 127.0.0.1 only, stops after `--max-seconds` (a forgotten process cannot
//! linger) or on stdin closing, and prints the requests and connections it served.
//!
//! Usage: `bench-target [--port N] [--max-seconds S]`; prints `listening 127.0.0.1:PORT`.

use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nhello, world\n";

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut max_seconds = 600u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().unwrap_or_default();
        match arg.as_str() {
            "--port" => port = value.parse().expect("--port N"),
            "--max-seconds" => max_seconds = value.parse().expect("--max-seconds S"),
            other => panic!("unknown argument {other}"),
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        println!("listening {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        // Stdin closing (the harness exiting, even on a panic) stops the server.
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut line = String::new();
            while std::io::stdin().lock().read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
            let _ = closed_tx.send(());
        });
        let accept = async {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                CONNECTIONS.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(socket));
            }
        };
        tokio::select! {
            _ = accept => {}
            _ = closed_rx => {}
            _ = tokio::time::sleep(Duration::from_secs(max_seconds)) => {}
        }
        println!(
            "served {} requests on {} connections",
            REQUESTS.load(Ordering::Relaxed),
            CONNECTIONS.load(Ordering::Relaxed)
        );
        Ok(())
    })
}

async fn serve(mut socket: tokio::net::TcpStream) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut out = Vec::with_capacity(RESPONSE.len() * 4);
    // How much of "\r\n\r\n" the previous read ended with, so a terminator split across two
    // reads still counts once.
    let mut matched = 0usize;
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut complete = 0u64;
        for &b in &buf[..n] {
            matched = match (matched, b) {
                (0 | 2, b'\r') => matched + 1,
                (1 | 3, b'\n') => matched + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            if matched == 4 {
                complete += 1;
                matched = 0;
            }
        }
        if complete == 0 {
            continue;
        }
        REQUESTS.fetch_add(complete, Ordering::Relaxed);
        out.clear();
        for _ in 0..complete {
            out.extend_from_slice(RESPONSE);
        }
        if socket.write_all(&out).await.is_err() {
            return;
        }
    }
}
