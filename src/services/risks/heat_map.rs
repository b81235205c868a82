//! The heat map: risks counted per cell of the guide's 5 × 5 map, inherent or residual.
use super::methodology::{self, HEAT_MAP, IMPACT, PROBABILITY};
use crate::dto::risks::{HeatMapCell, HeatMapQuery, HeatMapResponse, HeatMapStage, ZoneCount};
use crate::entities::enums::{RiskImpact, RiskProbability, RiskZone};
use crate::entities::risk;
use crate::error::ApiError;
use crate::services::tenancy::scoped;
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// Counts the risks of `org` per cell (one grouped query).
pub async fn heat_map(conn: &impl ConnectionTrait, org: Uuid, q: &HeatMapQuery) -> Result<HeatMapResponse, ApiError> {
    crate::services::objectives::check_query_text("process", q.process.as_deref(), 200)?;
    let stage = q.stage.unwrap_or_default();
    let (p_col, i_col) = match stage {
        HeatMapStage::Inherent => (risk::Column::InherentProbability, risk::Column::InherentImpact),
        HeatMapStage::Residual => (risk::Column::ResidualProbability, risk::Column::ResidualImpact),
    };
    let mut select = scoped::<risk::Entity>(org);
    if let Some(p) = q.process.as_deref() {
        select = select.filter(risk::Column::Process.eq(p.trim()));
    }
    if let Some(k) = q.kind {
        select = select.filter(risk::Column::Kind.eq(k));
    }
    let rows: Vec<(RiskProbability, RiskImpact, i64)> = select
        .select_only()
        .column(p_col)
        .column(i_col)
        .column_as(risk::Column::Id.count(), "n")
        .group_by(p_col)
        .group_by(i_col)
        .into_tuple()
        .all(conn)
        .await?;
    let counts: HashMap<(RiskProbability, RiskImpact), u64> =
        rows.into_iter().map(|(p, i, n)| ((p, i), u64::try_from(n).unwrap_or(0))).collect();
    let mut cells = Vec::with_capacity(25);
    let mut zones: HashMap<RiskZone, u64> = HashMap::new();
    for (pi, (p, _, _)) in PROBABILITY.iter().enumerate() {
        for (ii, (i, _)) in IMPACT.iter().enumerate() {
            let zone = HEAT_MAP[pi][ii];
            let count = counts.get(&(*p, *i)).copied().unwrap_or(0);
            *zones.entry(zone).or_default() += count;
            cells.push(HeatMapCell { probability: *p, impact: *i, zone, count });
        }
    }
    let total = cells.iter().map(|c| c.count).sum();
    Ok(HeatMapResponse {
        stage,
        methodology: methodology::GUIDE.to_string(),
        cells,
        zones: RiskZone::ALL
            .iter()
            .map(|z| ZoneCount { zone: *z, count: zones.get(z).copied().unwrap_or(0) })
            .collect(),
        total,
    })
}
