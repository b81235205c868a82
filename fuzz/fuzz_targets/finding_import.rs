//! Bulk upload of findings: any bytes as a CSV or JSON body, in any charset and cut into any
//! pieces, must give rows or row/file errors, never a panic; counts must add up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mejora::entities::enums::ImportFormat;
use mejora::services::finding_imports::{dissect, Encoding};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, body)) = data.split_first() else { return };
    let format = if knobs & 1 == 0 { ImportFormat::Csv } else { ImportFormat::Json };
    let charset: Option<&'static Encoding> = match (knobs >> 1) & 3 {
        0 => None,
        1 => Some(encoding_rs::UTF_8),
        2 => Some(encoding_rs::WINDOWS_1252),
        _ => Some(encoding_rs::UTF_16LE),
    };
    let piece = usize::from(knobs >> 3) + 1;
    let out = dissect(format, charset, body, piece);
    if let Ok(report) = out.report {
        assert!(report.rejected <= report.received, "more rejected than received");
        assert_eq!(out.rows as u64, report.received - report.rejected, "valid rows and counts disagree");
        assert_eq!(report.size, body.len() as u64, "size is the body's");
    }
});
