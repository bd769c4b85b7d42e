//! `fake-zoom [--listen 127.0.0.1:9100]`: serves until killed. Reads Zoom's OpenAPI export
//! from `$ZOOM_SPEC` or `../shared/zoom/` beside the project.
fn main() {
    let mut listen = "127.0.0.1:9100".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().expect("--listen needs an address"),
            other => {
                eprintln!("unknown argument {other}; usage: fake-zoom [--listen ADDR]");
                std::process::exit(2);
            }
        }
    }
    let spec = zoom_spec::Spec::from_default_location().unwrap_or_else(|e| {
        eprintln!("fake-zoom: {e}");
        std::process::exit(1);
    });
    let (base, _fz) = fake_zoom::start(&listen, spec).unwrap_or_else(|e| {
        eprintln!("fake-zoom: cannot start on {listen}: {e}");
        std::process::exit(1);
    });
    println!("fake-zoom listening on {base}");
    loop {
        std::thread::park();
    }
}
