//! Plan matrices as entities keep them today: the TI.PL03 table (categories, scores,
//! improvement alternatives, improvements with their period, effectiveness criterion).
pub mod export;
pub mod import;
pub mod sheet;
pub mod sireci;
pub mod ti_pl03;
