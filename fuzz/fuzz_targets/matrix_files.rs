//! Plan matrix upload: any bytes as a CSV or XLSX file (or JSON) must give a plan to create or a
//! 4xx problem, never a panic or a 500.
#![no_main]
use libfuzzer_sys::fuzz_target;
use mejora::dto::plan_matrix::PlanImportQuery;
use mejora::services::matrix::import::{parse, MatrixFormat};
use mejora::services::spreadsheet::Limits;

fuzz_target!(|data: &[u8]| {
    let Some((&knob, body)) = data.split_first() else { return };
    let format = match knob % 3 {
        0 => MatrixFormat::Csv,
        1 => MatrixFormat::Xlsx,
        _ => MatrixFormat::Json,
    };
    let query = PlanImportQuery { code: Some("TI.PL03".into()), title: Some("Plan".into()), ..Default::default() };
    if let Err(problem) = parse(format, body, &query, &Limits::matrix()) {
        assert!(problem.code.status().is_client_error(), "{format:?}: {problem:?}");
    }
});
