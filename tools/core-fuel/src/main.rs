//! `core-fuel <core.wasm> <request.json>...`: for each request (a whole `{"op", "input"}`
//! document), the fuel wasmi charges for one `kct_call` once the instance is warm, which is
//! about one unit per executed wasm instruction. Unlike a timing, it does not move with the
//! machine's load, so two builds can be compared exactly. Prints `op<TAB>fuel<TAB>answer bytes`.

use std::process::ExitCode;
use wasmi::{Config, Engine, Linker, Module, Store};

fn fuel_per_call(wasm: &[u8], request: &[u8]) -> Result<(u64, usize), String> {
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
    let mut store = Store::new(&engine, ());
    store.set_fuel(u64::MAX / 2).map_err(|e| e.to_string())?;
    let instance = Linker::<()>::new(&engine)
        .instantiate_and_start(&mut store, &module)
        .map_err(|e| e.to_string())?;
    let memory = instance
        .get_memory(&store, "memory")
        .ok_or("the core exports no memory")?;
    let alloc = instance
        .get_typed_func::<u32, u32>(&store, "kct_alloc")
        .map_err(|e| e.to_string())?;
    let call = instance
        .get_typed_func::<(u32, u32), u64>(&store, "kct_call")
        .map_err(|e| e.to_string())?;
    let free = instance
        .get_typed_func::<(u32, u32), ()>(&store, "kct_free")
        .map_err(|e| e.to_string())?;
    let len = u32::try_from(request.len()).map_err(|_| "request too large")?;
    let buf = alloc.call(&mut store, len).map_err(|e| e.to_string())?;
    memory
        .write(&mut store, buf as usize, request)
        .map_err(|e| e.to_string())?;
    // The first call pays for one-time set-up (the panic hook, the arena); count the second.
    let mut last = (0, 0);
    for _ in 0..2 {
        let before = store.get_fuel().map_err(|e| e.to_string())?;
        let packed = call
            .call(&mut store, (buf, len))
            .map_err(|e| e.to_string())?;
        let used = before - store.get_fuel().map_err(|e| e.to_string())?;
        let (ptr, n) = ((packed >> 32) as u32, packed as u32);
        free.call(&mut store, (ptr, n)).map_err(|e| e.to_string())?;
        last = (used, n as usize);
    }
    Ok(last)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((wasm_path, requests)) = args.split_first().filter(|(_, r)| !r.is_empty()) else {
        eprintln!("usage: core-fuel <core.wasm> <request.json>...");
        return ExitCode::from(2);
    };
    let wasm = match std::fs::read(wasm_path) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{wasm_path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for path in requests {
        let result = std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|req| fuel_per_call(&wasm, &req));
        match result {
            Ok((fuel, bytes)) => println!("{path}\t{fuel}\t{bytes}"),
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
