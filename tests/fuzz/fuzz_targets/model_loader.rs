//! Decodes the fuzz bytes as a model file: `Ok` or `Err`, never a panic (see
//! `checks::model_loader`).
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::model_loader(data));
