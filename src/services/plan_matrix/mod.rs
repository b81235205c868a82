//! Plan matrices in and out of the service: reading a TI.PL03 table (CSV, XLSX or JSON) as a
//! plan (`document`, `period`, `ti_pl03`, `import`) and writing a plan back as that table or as
//! the SIRECI improvement-plan format (`sheet`, `export`, `sireci`).
pub mod document;
pub mod export;
pub mod import;
pub mod jobs;
pub mod period;
pub mod sheet;
pub mod sireci;
pub mod ti_pl03;
