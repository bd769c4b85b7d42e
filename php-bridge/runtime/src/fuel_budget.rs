/// The fuel one core call may use (about one unit per WebAssembly instruction): far above any
/// real call, far below a runaway loop. The runtime stops a call past it (`fuel`), and
/// `tools/core-fuzz` (which includes this file) holds every operation, hostile inputs
/// included, under it.
pub const FUEL_PER_CALL: u64 = 200_000_000;
