//! The bounded XLSX reader: any bytes give rows within the limits or a 4xx problem, never a
//! panic, an abort or memory past the limits (run with `-rss_limit_mb`). Seeds for the bomb
//! shapes (far cell, huge declared counts, deep nesting, a thousandfold part) come from
//! `scripts/fuzz-seeds-xlsx.py`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mejora::services::spreadsheet::{read_rows, Limits};

const LIMITS: Limits = Limits {
    max_part_bytes: 4 * 1024 * 1024,
    max_rows: 2_000,
    max_columns: 64,
    max_cells: 20_000,
    max_shared_strings: 20_000,
    max_ratio: 100,
    max_text_bytes: 2 * 1024 * 1024,
};

fuzz_target!(|data: &[u8]| {
    let Some((&knob, body)) = data.split_first() else { return };
    let sheet = if knob & 1 == 0 { None } else { Some("Plan") };
    match read_rows(body, sheet, &LIMITS) {
        Ok(rows) => {
            assert!(rows.len() <= LIMITS.max_rows as usize);
            let cells: usize = rows.iter().map(Vec::len).sum();
            assert!(cells as u64 <= LIMITS.max_cells);
            assert!(rows.iter().all(|r| r.len() <= LIMITS.max_columns as usize));
        }
        Err(problem) => assert!(problem.code.status().is_client_error(), "{problem:?}"),
    }
});
