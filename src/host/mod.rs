//! Everything that touches the machine. For now: atomic file writes.

pub mod fs;
