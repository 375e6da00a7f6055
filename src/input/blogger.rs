//! Reader for the blogger export format (not written yet).

use super::{ByteStream, Position, RecordError, RecordResult};
use std::sync::Arc;

/// Reads the comments of a blogger export.
pub(crate) fn read(
    _stream: ByteStream,
    source: Arc<str>,
) -> Box<dyn Iterator<Item = RecordResult> + Send> {
    Box::new(std::iter::once(Err(RecordError {
        position: Position::new(source),
        id: None,
        reason: "the blogger reader is not available yet".into(),
    })))
}
