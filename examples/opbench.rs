//! Native timing of one operation through `dispatch`, to compare with the .wasm under PHP.
use kc_telemed::abi::dispatch;
use std::time::Instant;

fn main() {
    let req = std::env::args().nth(1).expect("request JSON");
    let n: usize = std::env::var("N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(dispatch(req.as_bytes()));
    }
    println!(
        "{:.2} us per call",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
