//! Reads the fuzz bytes as Reddit input (format forced) and drains every record: no panic.
#![no_main]

#[allow(dead_code)]
#[path = "../checks.rs"]
mod checks;

use comment_sieve::input::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checks::read_all(Format::Reddit, data));
