//! Decodes the fuzz bytes as a model file: `Ok` or `Err`, never a panic. The bytes after the
//! 24-byte header are also decoded under a correct header (length and CRC-32 fixed up), so
//! mutations reach the body decoder instead of stopping at the checksum.
#![no_main]

use comment_sieve::Classifier;
use comment_sieve::model_file::{FORMAT_VERSION, MAGIC};
use libfuzzer_sys::fuzz_target;

const HEADER_LEN: usize = 24;

fuzz_target!(|data: &[u8]| {
    let _ = Classifier::from_bytes(data);
    if let Some(body) = data.get(HEADER_LEN..) {
        let mut file = Vec::with_capacity(data.len());
        file.extend_from_slice(&MAGIC);
        file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        file.extend_from_slice(&[0, 0]);
        file.extend_from_slice(&(body.len() as u64).to_le_bytes());
        file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        file.extend_from_slice(body);
        let _ = Classifier::from_bytes(&file);
    }
});
