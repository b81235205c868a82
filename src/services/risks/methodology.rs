//! The DAFP risk methodology in one declarative table: probability and impact scales with their
//! percentages, the 5 × 5 heat map and the control weights, and the two computations built on
//! them (inherent valuation, residual valuation after controls).
//!
//! Source: Departamento Administrativo de la Función Pública, *Guía para la administración del
//! riesgo y el diseño de controles en entidades públicas — Riesgos de gestión, corrupción y
//! seguridad digital*, versión 5 (diciembre de 2020), kept unchanged in versión 6 (2022) for
//! these tables:
//! - probability by exposure frequency per year (tabla "Criterios para definir el nivel de
//!   probabilidad"),
//! - impact by the larger of the economic and reputational criteria (tabla "Criterios para
//!   definir el nivel de impacto"),
//! - the heat map ("Matriz de calor (niveles de severidad del riesgo)"),
//! - the control attributes and their weights ("Atributos para el diseño del control"),
//! - residual risk: each control, in order, lowers the running probability (preventive and
//!   detective) or impact (corrective) by its weight ("Aplicación de los controles para
//!   establecer el riesgo residual").
use crate::entities::enums::{ControlImplementation, ControlType, RiskImpact, RiskProbability, RiskZone};

/// Version of the guide the tables below follow.
pub const GUIDE: &str = "DAFP, Guía para la administración del riesgo y el diseño de controles en entidades públicas, v5 (2020) / v6 (2022)";

/// Probability levels: (level, the most times a year the activity exposed to the risk runs, percentage).
/// The last level has no upper bound.
pub const PROBABILITY: [(RiskProbability, Option<u32>, f64); 5] = [
    (RiskProbability::VeryLow, Some(2), 0.20),
    (RiskProbability::Low, Some(24), 0.40),
    (RiskProbability::Medium, Some(500), 0.60),
    (RiskProbability::High, Some(5000), 0.80),
    (RiskProbability::VeryHigh, None, 1.00),
];

/// Impact levels and their percentages.
pub const IMPACT: [(RiskImpact, f64); 5] = [
    (RiskImpact::Slight, 0.20),
    (RiskImpact::Minor, 0.40),
    (RiskImpact::Moderate, 0.60),
    (RiskImpact::Major, 0.80),
    (RiskImpact::Catastrophic, 1.00),
];

/// The heat map: `HEAT_MAP[probability][impact]`, both in the order of [`PROBABILITY`] and
/// [`IMPACT`] (very low … very high; slight … catastrophic).
pub const HEAT_MAP: [[RiskZone; 5]; 5] = {
    use RiskZone::{Extreme as E, High as A, Low as B, Moderate as M};
    [
        // leve, menor, moderado, mayor, catastrófico
        [B, B, M, A, E], // muy baja
        [B, M, M, A, E], // baja
        [M, M, M, A, E], // media
        [M, M, A, A, E], // alta
        [A, A, A, A, E], // muy alta
    ]
};

/// Weight of a control's type.
pub const TYPE_WEIGHT: [(ControlType, f64); 3] =
    [(ControlType::Preventive, 0.25), (ControlType::Detective, 0.15), (ControlType::Corrective, 0.10)];

/// Weight of a control's implementation.
pub const IMPLEMENTATION_WEIGHT: [(ControlImplementation, f64); 2] =
    [(ControlImplementation::Automatic, 0.25), (ControlImplementation::Manual, 0.15)];

fn probability_index(p: RiskProbability) -> usize {
    PROBABILITY.iter().position(|(l, _, _)| *l == p).unwrap_or(0)
}

fn impact_index(i: RiskImpact) -> usize {
    IMPACT.iter().position(|(l, _)| *l == i).unwrap_or(0)
}

/// The probability level of an activity exposed `times_a_year` times a year.
pub fn probability_for_frequency(times_a_year: u32) -> RiskProbability {
    PROBABILITY
        .iter()
        .find(|(_, max, _)| max.is_none_or(|m| times_a_year <= m))
        .map_or(RiskProbability::VeryHigh, |(l, _, _)| *l)
}

/// Percentage of a probability level.
pub fn probability_pct(p: RiskProbability) -> f64 {
    PROBABILITY[probability_index(p)].2
}

/// Percentage of an impact level.
pub fn impact_pct(i: RiskImpact) -> f64 {
    IMPACT[impact_index(i)].1
}

/// Rounds a percentage to 4 decimals (0.2520), so repeated products compare and store exactly.
fn round(pct: f64) -> f64 {
    (pct * 10_000.0).round() / 10_000.0
}

/// The probability level a residual percentage falls in (the level whose percentage is the
/// first at or above it: up to 20% very low, up to 40% low…).
pub fn probability_for_pct(pct: f64) -> RiskProbability {
    PROBABILITY.iter().find(|(_, _, p)| round(pct) <= *p).map_or(RiskProbability::VeryHigh, |(l, _, _)| *l)
}

/// The impact level a residual percentage falls in.
pub fn impact_for_pct(pct: f64) -> RiskImpact {
    IMPACT.iter().find(|(_, p)| round(pct) <= *p).map_or(RiskImpact::Catastrophic, |(l, _)| *l)
}

/// The heat-map zone of a cell.
pub fn zone(p: RiskProbability, i: RiskImpact) -> RiskZone {
    HEAT_MAP[probability_index(p)][impact_index(i)]
}

/// The larger of the economic and reputational impacts (the guide takes the higher).
pub fn inherent_impact(economic: RiskImpact, reputational: RiskImpact) -> RiskImpact {
    economic.max(reputational)
}

/// A control's weight: its type's plus its implementation's (preventive + manual = 40%).
pub fn control_weight(t: ControlType, i: ControlImplementation) -> f64 {
    let t = TYPE_WEIGHT.iter().find(|(k, _)| *k == t).map_or(0.0, |(_, w)| *w);
    let i = IMPLEMENTATION_WEIGHT.iter().find(|(k, _)| *k == i).map_or(0.0, |(_, w)| *w);
    round(t + i)
}

/// A valuation: percentages, levels and zone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Valuation {
    /// Probability as a fraction (0.252 = 25.2%).
    pub probability_pct: f64,
    /// Impact as a fraction.
    pub impact_pct: f64,
    /// Probability level.
    pub probability: RiskProbability,
    /// Impact level.
    pub impact: RiskImpact,
    /// Heat-map zone.
    pub zone: RiskZone,
}

/// The inherent valuation of a risk.
pub fn inherent(probability: RiskProbability, impact: RiskImpact) -> Valuation {
    Valuation {
        probability_pct: probability_pct(probability),
        impact_pct: impact_pct(impact),
        probability,
        impact,
        zone: zone(probability, impact),
    }
}

/// The residual valuation after `controls` (type, implementation), applied in order: each lowers
/// the running probability (preventive, detective) or impact (corrective) by its weight.
pub fn residual(inherent: Valuation, controls: &[(ControlType, ControlImplementation)]) -> Valuation {
    let (mut p, mut i) = (inherent.probability_pct, inherent.impact_pct);
    for (t, imp) in controls {
        let w = control_weight(*t, *imp);
        match t {
            ControlType::Preventive | ControlType::Detective => p = round(p - p * w),
            ControlType::Corrective => i = round(i - i * w),
        }
    }
    let (probability, impact) = (probability_for_pct(p), impact_for_pct(i));
    Valuation { probability_pct: p, impact_pct: i, probability, impact, zone: zone(probability, impact) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ControlImplementation::*;
    use ControlType::*;

    #[test]
    fn frequency_bands_follow_the_guide() {
        for (times, level) in [
            (0, RiskProbability::VeryLow),
            (2, RiskProbability::VeryLow),
            (3, RiskProbability::Low),
            (24, RiskProbability::Low),
            (25, RiskProbability::Medium),
            (500, RiskProbability::Medium),
            (501, RiskProbability::High),
            (5000, RiskProbability::High),
            (5001, RiskProbability::VeryHigh),
        ] {
            assert_eq!(probability_for_frequency(times), level, "{times} times a year");
        }
    }

    #[test]
    fn heat_map_corners_and_columns() {
        assert_eq!(zone(RiskProbability::VeryLow, RiskImpact::Slight), RiskZone::Low);
        assert_eq!(zone(RiskProbability::VeryHigh, RiskImpact::Catastrophic), RiskZone::Extreme);
        for p in RiskProbability::ALL {
            assert_eq!(zone(*p, RiskImpact::Catastrophic), RiskZone::Extreme);
            assert_eq!(zone(*p, RiskImpact::Major), RiskZone::High);
        }
    }

    /// The guide's worked example of residual risk (v5, "Aplicación de los controles para
    /// establecer el riesgo residual"): probability media (60%), impact mayor (80%), zone alta;
    /// control 1 preventive manual (40%) → 36%; control 2 detective manual (30%) → 25.2%, baja;
    /// impact stays mayor (80%); residual zone alta.
    #[test]
    fn guide_worked_example() {
        let start = inherent(RiskProbability::Medium, RiskImpact::Major);
        assert_eq!(start.zone, RiskZone::High);
        let after_one = residual(start, &[(Preventive, Manual)]);
        assert!((after_one.probability_pct - 0.36).abs() < 1e-9);
        let after_two = residual(start, &[(Preventive, Manual), (Detective, Manual)]);
        assert!((after_two.probability_pct - 0.252).abs() < 1e-9);
        assert_eq!(after_two.probability, RiskProbability::Low);
        assert!((after_two.impact_pct - 0.80).abs() < 1e-9);
        assert_eq!(after_two.impact, RiskImpact::Major);
        assert_eq!(after_two.zone, RiskZone::High);
    }

    #[test]
    fn corrective_controls_lower_impact() {
        let start = inherent(RiskProbability::High, RiskImpact::Moderate);
        let after = residual(start, &[(Corrective, Automatic)]);
        // 60% − 60% × 35% = 39% → menor.
        assert!((after.impact_pct - 0.39).abs() < 1e-9);
        assert_eq!(after.impact, RiskImpact::Minor);
        assert_eq!(after.probability, RiskProbability::High);
        assert_eq!(after.zone, RiskZone::Moderate);
    }

    #[test]
    fn weights_add_type_and_implementation() {
        assert!((control_weight(Preventive, Automatic) - 0.50).abs() < 1e-9);
        assert!((control_weight(Detective, Manual) - 0.30).abs() < 1e-9);
        assert!((control_weight(Corrective, Manual) - 0.25).abs() < 1e-9);
    }
}
