//! Where a core call's time goes, in wasmi alone (no PHP).
//!
//! `core-time <a.wasm> [<b.wasm>...] -- <request.json>...`
//!   Median microseconds per `kct_call` for each build and request, the builds timed in
//!   turns within one process, so machine noise hits them alike. Prints
//!   `request<TAB>build<TAB>median µs`.
//!
//!   A build named `fuel:<a.wasm>` runs metered with fuel, as the runtime runs every production
//!   call (the same file plain beside it shows what the budget costs).
//!
//! `core-time --cold <a.wasm> [<b.wasm>...] -- <request.json>...`
//!   The same, but each timed call comes alone, right after 64 MB of other memory is written:
//!   the CPU's caches as a web request leaves them (WordPress ran before the core is called).
//!
//! `core-time --profile <instrumented.wasm> <plain.wasm> <request.json>`
//!   Time per function of one call. The instrumented build comes from
//!   `wasm-opt -g --log-execution`, which calls an `env.log_execution(id)` probe on entering
//!   each function and each loop turn; the time between two probes goes to the function of
//!   the first. Probes cost time themselves (the header says about how much, from the plain
//!   build), so a function's figure includes its probes: read the probe count beside it.
//!
//! (wasmi's fuel was used before and misled: it charges every operator of a block when the
//! block is entered, branches not taken included, and nothing for a call's overhead, which
//! in the interpreter is the larger cost.)

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;
use wasmi::{Caller, Engine, Linker, Module, Store, TypedFunc};

const ROUNDS: usize = 31;
const BATCH: usize = 100;

/// A core instance with one request written into its memory.
struct Core<T> {
    store: Store<T>,
    call: TypedFunc<(u32, u32), u64>,
    free: TypedFunc<(u32, u32), ()>,
    buf: u32,
    len: u32,
}

impl<T> Core<T> {
    fn new(
        wasm: &[u8],
        request: &[u8],
        data: T,
        linker: impl FnOnce(&Engine) -> Linker<T>,
    ) -> Result<Self, String> {
        Self::with_fuel(wasm, request, data, linker, false)
    }

    /// `fuel`: metered as the runtime meters every production call (a budget per call).
    fn with_fuel(
        wasm: &[u8],
        request: &[u8],
        data: T,
        linker: impl FnOnce(&Engine) -> Linker<T>,
        fuel: bool,
    ) -> Result<Self, String> {
        let mut config = wasmi::Config::default();
        config.consume_fuel(fuel);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wasm).map_err(|e| e.to_string())?;
        let mut store = Store::new(&engine, data);
        if fuel {
            store.set_fuel(u64::MAX / 2).map_err(|e| e.to_string())?;
        }
        let instance = linker(&engine)
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
        let mut core = Self {
            store,
            call,
            free,
            buf,
            len,
        };
        // The first call pays for one-time set-up (the panic hook, the arena).
        core.once()?;
        Ok(core)
    }

    fn once(&mut self) -> Result<(), String> {
        let packed = self
            .call
            .call(&mut self.store, (self.buf, self.len))
            .map_err(|e| e.to_string())?;
        self.free
            .call(&mut self.store, ((packed >> 32) as u32, packed as u32))
            .map_err(|e| e.to_string())
    }

    /// Microseconds per call over one batch.
    fn batch(&mut self, n: usize) -> Result<f64, String> {
        let t = Instant::now();
        for _ in 0..n {
            self.once()?;
        }
        Ok(t.elapsed().as_secs_f64() * 1e6 / n as f64)
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn plain(wasm: &[u8], request: &[u8]) -> Result<Core<()>, String> {
    Core::new(wasm, request, (), Linker::new)
}

/// Medians of the builds for one request, timed in turns; `cold`: one call at a time, each
/// after the caches are filled with other data.
fn side_by_side(
    builds: &[(Vec<u8>, bool)],
    request: &[u8],
    cold: bool,
) -> Result<Vec<f64>, String> {
    let mut cores = builds
        .iter()
        .map(|(w, fuel)| Core::with_fuel(w, request, (), Linker::new, *fuel))
        .collect::<Result<Vec<_>, _>>()?;
    let mut times = vec![Vec::new(); cores.len()];
    let mut other = if cold {
        vec![0u8; 64 << 20]
    } else {
        Vec::new()
    };
    for round in 0..ROUNDS * if cold { 3 } else { 1 } {
        // Which build goes first alternates, so what one leaves in the caches favours neither.
        let mut turn: Vec<_> = cores.iter_mut().zip(&mut times).collect();
        if round % 2 == 1 {
            turn.reverse();
        }
        for (core, t) in turn {
            if cold {
                // One write per cache line, a new value each round so none is skipped.
                for b in other.iter_mut().step_by(64) {
                    *b = round as u8;
                }
                std::hint::black_box(&other);
                t.push(core.batch(1)?);
            } else {
                t.push(core.batch(BATCH)?);
            }
        }
    }
    Ok(times.into_iter().map(median).collect())
}

#[derive(Default)]
struct Probes {
    last_id: Option<i32>,
    last: Option<Instant>,
    /// Nanoseconds and entries per probe id.
    seen: HashMap<i32, (f64, u64)>,
}

/// Which function each probe id sits in, and the functions' names.
struct ProbeMap {
    function_of: HashMap<i32, u32>,
    names: HashMap<u32, String>,
}

/// The function names of a name section (other custom sections are left alone).
fn read_names(
    section: &wasmparser::CustomSectionReader,
    names: &mut HashMap<u32, String>,
) -> Result<(), String> {
    if let wasmparser::KnownCustom::Name(reader) = section.as_known() {
        for name in reader {
            if let wasmparser::Name::Function(map) = name.map_err(|e| e.to_string())? {
                for naming in map {
                    let naming = naming.map_err(|e| e.to_string())?;
                    names.insert(naming.index, naming.name.to_string());
                }
            }
        }
    }
    Ok(())
}

/// Each defined function's body size in bytes, by name (a build with its names kept).
fn body_sizes(wasm: &[u8]) -> Result<HashMap<String, usize>, String> {
    use wasmparser::{Parser, Payload, TypeRef};
    let (mut imported, mut sizes, mut names) = (0u32, Vec::new(), HashMap::new());
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::ImportSection(imports) => {
                for import in imports {
                    if let TypeRef::Func(_) = import.map_err(|e| e.to_string())?.ty {
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => sizes.push(body.range().len()),
            Payload::CustomSection(section) => read_names(&section, &mut names)?,
            _ => {}
        }
    }
    Ok(names
        .into_iter()
        .filter_map(|(i, n)| Some((n, *sizes.get(i.checked_sub(imported)? as usize)?)))
        .collect())
}

fn probe_map(wasm: &[u8]) -> Result<ProbeMap, String> {
    use wasmparser::{Operator, Parser, Payload, TypeRef};
    let mut imported = 0u32;
    let mut probe_fn = None;
    let mut defined = 0u32;
    let mut ids = HashMap::new();
    let mut names = HashMap::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.map_err(|e| e.to_string())? {
            Payload::ImportSection(imports) => {
                for import in imports {
                    let import = import.map_err(|e| e.to_string())?;
                    if let TypeRef::Func(_) = import.ty {
                        if import.name == "log_execution" {
                            probe_fn = Some(imported);
                        }
                        imported += 1;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let index = imported + defined;
                defined += 1;
                let mut last_const = None;
                let mut ops = body.get_operators_reader().map_err(|e| e.to_string())?;
                while !ops.eof() {
                    match ops.read().map_err(|e| e.to_string())? {
                        Operator::I32Const { value } => last_const = Some(value),
                        Operator::Call { function_index } if Some(function_index) == probe_fn => {
                            if let Some(id) = last_const.take() {
                                ids.insert(id, index);
                            }
                        }
                        _ => last_const = None,
                    }
                }
            }
            Payload::CustomSection(section) => read_names(&section, &mut names)?,
            _ => {}
        }
    }
    if probe_fn.is_none() {
        return Err(
            "no env.log_execution import: instrument with `wasm-opt -g --log-execution`".into(),
        );
    }
    Ok(ProbeMap {
        function_of: ids,
        names,
    })
}

fn profile(instrumented: &[u8], plain_wasm: &[u8], request: &[u8]) -> Result<(), String> {
    let ProbeMap {
        function_of: ids,
        names,
    } = probe_map(instrumented)?;
    let mut core = Core::new(instrumented, request, Probes::default(), |engine| {
        let mut linker = Linker::new(engine);
        linker
            .func_wrap(
                "env",
                "log_execution",
                |mut caller: Caller<'_, Probes>, id: i32| {
                    let now = Instant::now();
                    let p = caller.data_mut();
                    if let (Some(last_id), Some(last)) = (p.last_id, p.last) {
                        let e = p.seen.entry(last_id).or_default();
                        e.0 += now.duration_since(last).as_secs_f64() * 1e9;
                    }
                    p.seen.entry(id).or_default().1 += 1;
                    p.last_id = Some(id);
                    p.last = Some(Instant::now());
                },
            )
            .expect("one probe");
        linker
    })?;
    let runs = 200;
    core.store.data_mut().seen.clear();
    let mut total = 0.0;
    for _ in 0..runs {
        core.store.data_mut().last_id = None;
        core.store.data_mut().last = None;
        total += core.batch(1)?;
    }
    let base = median(
        (0..9)
            .map(|_| plain(plain_wasm, request)?.batch(BATCH))
            .collect::<Result<Vec<_>, _>>()?,
    );
    let seen = &core.store.data().seen;
    let events: u64 = seen.values().map(|(_, n)| n).sum::<u64>() / runs;
    let instrumented_us = total / runs as f64;
    // What a probe costs, spread evenly: the instrumented call's extra time per probe.
    let per_probe_ns = ((instrumented_us - base) * 1e3 / events.max(1) as f64).max(0.0);
    let mut by_fn: HashMap<u32, (f64, u64)> = HashMap::new();
    for (id, (ns, n)) in seen {
        let f = by_fn
            .entry(ids.get(id).copied().unwrap_or(u32::MAX))
            .or_default();
        f.0 += ns / runs as f64;
        f.1 += n / runs;
    }
    let mut rows: Vec<_> = by_fn.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0));
    // What cold caches charge for is the code a call runs through, once each: the bodies
    // of the functions it enters, measured in the plain build.
    let sizes = body_sizes(plain_wasm)?;
    let run_bytes: usize = rows
        .iter()
        .filter_map(|(f, _)| sizes.get(names.get(f)?))
        .sum();
    println!(
        "one call: {base:.1} µs plain, {instrumented_us:.1} µs with {events} probes \
         (function entries and loop turns): about {per_probe_ns:.0} ns per probe"
    );
    println!(
        "code run: {} functions, {:.1} KB of the core's {:.1} KB of function bodies",
        rows.len(),
        run_bytes as f64 / 1e3,
        sizes.values().sum::<usize>() as f64 / 1e3
    );
    println!("µs, probes included\tprobes\tbytes\tfunction");
    for (f, (ns, n)) in rows.into_iter().take(rows_shown()) {
        let bytes = names
            .get(&f)
            .and_then(|n| sizes.get(n))
            .copied()
            .unwrap_or(0);
        let name = names.get(&f).map_or_else(
            || format!("#{f}"),
            |n| format!("{:#}", rustc_demangle::demangle(n)),
        );
        println!("{:.2}\t{n}\t{bytes}\t{name}", ns / 1e3);
    }
    Ok(())
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    if let Some(rest) = args.strip_prefix(&["--profile".to_string()]) {
        let [instrumented, plain_wasm, request] = rest else {
            return Err(
                "usage: core-time --profile <instrumented.wasm> <plain.wasm> <request.json>".into(),
            );
        };
        return profile(&read(instrumented)?, &read(plain_wasm)?, &read(request)?);
    }
    let (cold, args) = match args.strip_prefix(&["--cold".to_string()]) {
        Some(rest) => (true, rest),
        None => (false, args),
    };
    let split = args
        .iter()
        .position(|a| a == "--")
        .ok_or("usage: core-time <a.wasm> [<b.wasm>...] -- <request.json>...")?;
    let (wasm_paths, requests) = (&args[..split], &args[split + 1..]);
    if wasm_paths.is_empty() || requests.is_empty() {
        return Err("usage: core-time <a.wasm> [<b.wasm>...] -- <request.json>...".into());
    }
    // `fuel:<path>`: that build metered with fuel, as the runtime runs every call.
    let builds = wasm_paths
        .iter()
        .map(|p| match p.strip_prefix("fuel:") {
            Some(path) => read(path).map(|w| (w, true)),
            None => read(p).map(|w| (w, false)),
        })
        .collect::<Result<Vec<_>, _>>()?;
    for request in requests {
        let medians = side_by_side(&builds, &read(request)?, cold)?;
        for (path, us) in wasm_paths.iter().zip(medians) {
            println!("{request}\t{path}\t{us:.1}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("core-time: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How many functions the profile lists: `KCT_PROFILE_ROWS`, or 40.
fn rows_shown() -> usize {
    std::env::var("KCT_PROFILE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}
