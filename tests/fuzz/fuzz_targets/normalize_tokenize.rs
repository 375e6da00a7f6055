//! Normalizes, tokenizes and classifies the fuzz bytes (as lossy UTF-8): no panic, the fast
//! scoring path agrees with the reference pipeline, and the probabilities are finite and sum to 1.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::normalize_tokenize(data));
