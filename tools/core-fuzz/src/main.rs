//! `core-fuzz <core.wasm> <vectors dir> <executions> [seed]`
//!
//! Loads the shipped core in wasmi (the interpreter PHP embeds) and sends every operation
//! inputs made hostile: each golden vector's input with leaves replaced by huge numbers,
//! fractions, wrong types, deep nesting, long and non-ASCII texts (dates and headers
//! included), keys dropped or added, raw bytes that are not UTF-8, and texts sent as the
//! request's tail (after a NUL) with paths that fit or do not; and operations fed
//! inputs of other operations. Every call must come back as an answer (`ok` or `error`),
//! never a trap. Prints `executions=N traps=0` and exits 1 on the first trap, with the
//! operation and the input.
//!
//! Every call also runs on a fuel budget (wasmi's instruction metering): no input, however
//! hostile, may make one call run longer than `FUEL_BUDGET`. The golden vectors' own inputs
//! are run first, and the largest fuel any of them needs is printed beside the hostile
//! inputs' largest, so the margin is visible.

use serde_json::{json, Value};

#[path = "../../../tests/common/mod.rs"]
mod common;
use std::process::ExitCode;
use wasmi::{Config, Engine, Instance, Linker, Module, Store, TypedFunc};

/// The runtime's own budget per call, from the file it is defined in: what is proved here is
/// what production enforces.
#[path = "../../../php-bridge/runtime/src/fuel_budget.rs"]
mod fuel_budget;
const FUEL_BUDGET: u64 = fuel_budget::FUEL_PER_CALL;

struct Core {
    store: Store<()>,
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    call: TypedFunc<(u32, u32), u64>,
    instance: Instance,
}

impl Core {
    fn new(engine: &Engine, module: &Module) -> Result<Self, String> {
        let mut store = Store::new(engine, ());
        let instance = Linker::<()>::new(engine)
            .instantiate_and_start(&mut store, module)
            .map_err(|e| e.to_string())?;
        Ok(Self {
            alloc: instance
                .get_typed_func(&store, "kct_alloc")
                .map_err(|e| e.to_string())?,
            free: instance
                .get_typed_func(&store, "kct_free")
                .map_err(|e| e.to_string())?,
            call: instance
                .get_typed_func(&store, "kct_call")
                .map_err(|e| e.to_string())?,
            instance,
            store,
        })
    }

    /// One request on a fresh fuel budget; the answer's text and the fuel it used, or the trap.
    fn run(&mut self, request: &[u8]) -> Result<(String, u64), String> {
        self.store
            .set_fuel(FUEL_BUDGET)
            .map_err(|e| format!("fuel: {e}"))?;
        let answer = self.run_inner(request)?;
        let left = self.store.get_fuel().map_err(|e| format!("fuel: {e}"))?;
        Ok((answer, FUEL_BUDGET - left))
    }

    fn run_inner(&mut self, request: &[u8]) -> Result<String, String> {
        let memory = self
            .instance
            .get_memory(&self.store, "memory")
            .ok_or("no memory")?;
        let len = request.len() as u32;
        let buf = self
            .alloc
            .call(&mut self.store, len)
            .map_err(|e| format!("alloc: {e}"))?;
        memory
            .write(&mut self.store, buf as usize, request)
            .map_err(|e| e.to_string())?;
        let packed = self
            .call
            .call(&mut self.store, (buf, len))
            .map_err(|e| format!("trap: {e}"))?;
        let (ptr, n) = ((packed >> 32) as u32, packed as u32);
        let mut out = vec![0u8; n as usize];
        memory
            .read(&self.store, ptr as usize, &mut out)
            .map_err(|e| e.to_string())?;
        self.free
            .call(&mut self.store, (ptr, n))
            .map_err(|e| format!("free: {e}"))?;
        self.free
            .call(&mut self.store, (buf, len))
            .map_err(|e| format!("free: {e}"))?;
        String::from_utf8(out).map_err(|_| "the answer is not UTF-8".into())
    }
}

/// xorshift64*: deterministic from the seed, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn hostile(rng: &mut Rng) -> Value {
    match rng.below(22) {
        0 => json!(i64::MAX),
        1 => json!(u64::MAX),
        2 => json!(i64::MIN),
        3 => json!(-1),
        4 => json!(1e308),
        5 => json!(0.5),
        6 => json!(""),
        7 => json!("x".repeat(20_000)),
        8 => json!("2020-05-31T00:00:0\u{e9}Z"),
        9 => json!("Sun, 31 May 2020 00:00:0\u{e9} GMT"),
        10 => json!("\u{1F600}\u{0000}\u{202E}\u{FFFF}"),
        11 => Value::Null,
        12 => json!(true),
        13 => json!([]),
        14 => json!({}),
        15 => {
            let mut v = json!(1);
            for _ in 0..(1 + rng.below(300)) {
                v = json!([v]);
            }
            v
        }
        16 => json!("9".repeat(40)),
        17 => json!(format!("{}", rng.next())),
        18 => json!("kc-\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}"),
        19 => {
            json!({"status": 429, "headers": {"Retry-After": "2020-05-31T\u{1F600}0:00Z"}, "body": "\u{e9}"})
        }
        20 => json!(-0.0),
        _ => json!("https://\u{e4}xample.org/\u{0}"),
    }
}

/// Every place in a value, as a path of keys and indexes.
fn paths(v: &Value, at: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                at.push(json!(k));
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(json!(i));
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = v;
    for step in path {
        cur = match step {
            Value::String(k) => cur.get_mut(k.as_str())?,
            Value::Number(i) => cur.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The request with one of the input's texts (a Zoom body when there is one) sent as its tail,
/// after a NUL, as the PHP bridge sends Zoom's answers; now and then the tail's bytes are not
/// UTF-8 or hold NULs of their own, the path names something else, or only one of the two is
/// there.
fn with_tail(op: &str, mut input: Value, rng: &mut Rng) -> Vec<u8> {
    let mut all = Vec::new();
    paths(&input, &mut Vec::new(), &mut all);
    let texts: Vec<&Vec<Value>> = all
        .iter()
        .filter(|p| {
            p.iter()
                .try_fold(&input, |v, k| match k {
                    Value::String(k) => v.get(k.as_str()),
                    _ => v.get(k.as_u64()? as usize),
                })
                .is_some_and(Value::is_string)
        })
        .collect();
    let path = texts
        .iter()
        .find(|p| p.last().is_some_and(|k| k == "body"))
        .filter(|_| rng.below(3) > 0)
        .or_else(|| texts.get(rng.below(texts.len().max(1))))
        .map(|p| (*p).clone())
        .unwrap_or_else(|| all[rng.below(all.len())].clone());
    let mut tail = match at_mut(&mut input, &path) {
        Some(slot) if slot.is_string() && rng.below(8) > 0 => std::mem::replace(slot, json!(""))
            .as_str()
            .unwrap_or("")
            .as_bytes()
            .to_vec(),
        _ => hostile(rng).to_string().into_bytes(),
    };
    if !tail.is_empty() && rng.below(4) == 0 {
        let at = rng.below(tail.len());
        tail.insert(at, [0xFF, 0x00, 0xC3, 0x80][rng.below(4)]);
    }
    let envelope = match rng.below(10) {
        0 => json!({"op": op, "input": input}),
        1 => json!({"op": op, "tail": hostile(rng), "input": input}),
        _ => json!({"op": op, "tail": path, "input": input}),
    };
    let mut request = serde_json::to_vec(&envelope).unwrap_or_default();
    if rng.below(10) > 0 {
        request.push(0);
        request.extend_from_slice(&tail);
    }
    request
}

fn mutate(input: &Value, rng: &mut Rng) -> Value {
    let mut v = input.clone();
    for _ in 0..(1 + rng.below(4)) {
        let mut all = Vec::new();
        paths(&v, &mut Vec::new(), &mut all);
        let path = all[rng.below(all.len())].clone();
        match rng.below(4) {
            0 | 1 => {
                let h = hostile(rng);
                if let Some(slot) = at_mut(&mut v, &path) {
                    *slot = h;
                }
            }
            2 => {
                if let (Some((Value::String(k), parent)), true) =
                    (path.split_last(), !path.is_empty())
                {
                    if let Some(Value::Object(m)) = at_mut(&mut v, parent) {
                        m.remove(k.as_str());
                    }
                }
            }
            _ => {
                let h = hostile(rng);
                if let Some(Value::Object(m)) = at_mut(&mut v, &path) {
                    m.insert(format!("unknown_{}", rng.below(9)), h);
                }
            }
        }
    }
    v
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: core-fuzz <core.wasm> <vectors dir> <executions> [seed]");
        return ExitCode::from(2);
    }
    let wasm = match std::fs::read(&args[1]) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("core-fuzz: {}: {e}", args[1]);
            return ExitCode::FAILURE;
        }
    };
    let executions: usize = args[3].parse().unwrap_or(10_000);
    let seed: u64 = args
        .get(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED_CAFE_F00D_0001);
    // The golden vectors' inputs, fixtures expanded (the same reader as the Rust tests).
    let seeds: Vec<(String, Value)> = common::vectors_in(std::path::Path::new(&args[2]))
        .into_iter()
        .filter_map(|v| {
            let op = v.case.get("op")?.as_str()?.to_string();
            (op != "debug.panic").then(|| (op, v.case["input"].clone()))
        })
        .collect();
    if seeds.is_empty() {
        eprintln!("core-fuzz: no vectors in {}", args[2]);
        return ExitCode::FAILURE;
    }
    let mut config = Config::default();
    config.consume_fuel(true);
    let engine = Engine::new(&config);
    let module = match Module::new(&engine, &wasm[..]) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("core-fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut core = match Core::new(&engine, &module) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("core-fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ops: Vec<String> = {
        let mut o: Vec<String> = seeds.iter().map(|(op, _)| op.clone()).collect();
        o.sort();
        o.dedup();
        o
    };
    // The vectors as they are: what real calls cost.
    let mut vector_fuel = 0u64;
    for (op, input) in &seeds {
        let request = serde_json::to_vec(&json!({"op": op, "input": input})).unwrap_or_default();
        match core.run(&request) {
            Ok((_, used)) => vector_fuel = vector_fuel.max(used),
            Err(trap) => {
                eprintln!("core-fuzz: vector input for {op}: {trap}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut hostile_fuel = 0u64;
    let mut rng = Rng(seed | 1);
    let (mut oks, mut errors) = (0usize, 0usize);
    for n in 0..executions {
        let (op, input) = &seeds[rng.below(seeds.len())];
        // Now and then another operation's input, or the op name itself hostile.
        let op = if rng.below(10) == 0 {
            ops[rng.below(ops.len())].clone()
        } else {
            op.clone()
        };
        let input = mutate(input, &mut rng);
        let mut request = if rng.below(6) == 0 {
            with_tail(op.as_str(), input, &mut rng)
        } else {
            serde_json::to_vec(&json!({"op": op, "input": input})).unwrap_or_default()
        };
        if rng.below(20) == 0 {
            // Bytes that are not UTF-8, inside a string if there is one.
            let at = request.iter().position(|&b| b == b'"').map_or(0, |i| i + 1);
            request.insert(at, [0xFF, 0xC3, 0x80][rng.below(3)]);
        }
        match core.run(&request).map(|(answer, used)| {
            hostile_fuel = hostile_fuel.max(used);
            answer
        }) {
            Ok(answer) => match serde_json::from_str::<Value>(&answer) {
                Ok(v) if v.get("ok").is_some() => oks += 1,
                Ok(v) if v.get("error").is_some() => errors += 1,
                _ => {
                    eprintln!(
                        "core-fuzz: execution {n}: {op} answered neither ok nor error: {}",
                        answer.chars().take(300).collect::<String>()
                    );
                    return ExitCode::FAILURE;
                }
            },
            Err(trap) => {
                let shown: String = String::from_utf8_lossy(&request)
                    .chars()
                    .take(2000)
                    .collect();
                eprintln!(
                    "core-fuzz: execution {n} (seed {seed}): {op}: {trap}\n  request: {shown}"
                );
                println!("executions={} traps=1", n + 1);
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "core-fuzz: {} operations from {} vectors; {oks} ok answers, {errors} error answers",
        ops.len(),
        seeds.len()
    );
    println!(
        "core-fuzz: fuel per call, largest: golden vectors {vector_fuel}, hostile inputs {hostile_fuel} (budget {FUEL_BUDGET})"
    );
    println!("executions={executions} traps=0");
    ExitCode::SUCCESS
}
