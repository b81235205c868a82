//! Plan matrix (TI.PL03) reading: any bytes as a CSV file must give categories or row errors,
//! never a panic; periods must parse or be refused.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mejora::services::matrix::ti_pl03;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(50) {
        let _ = ti_pl03::parse_period(line);
        let _ = ti_pl03::parse_score(line);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(data);
    let records: Vec<Vec<String>> =
        reader.records().take(1000).filter_map(Result::ok).map(|r| r.iter().map(String::from).collect()).collect();
    let (rows, _) = ti_pl03::rows_from_records(records);
    let (categories, _) = ti_pl03::categories(&rows);
    for c in &categories {
        let _ = ti_pl03::row_of(c);
    }
});
