//! Reads the fuzz bytes as Wxr input (format forced) and drains every record: no panic.
#![no_main]

use comment_sieve::input::{Format, InputOptions, from_reader};
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|data: &[u8]| {
    let options = InputOptions {
        format: Some(Format::Wxr),
        ..Default::default()
    };
    let reader = Box::new(Cursor::new(data.to_vec()));
    if let Ok(input) = from_reader(reader, "fuzz".into(), &options) {
        for record in input {
            let _ = record;
        }
    }
});
