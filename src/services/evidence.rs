//! Follow-up evidence: reported by the action's responsible user (or a planner or admin) on
//! approved or running plans, reviewed by an auditor who neither reported it nor is
//! responsible for the action, and immutable once accepted. File rows are kept here; their
//! bytes are handled by [`super::files`].
use super::action_evaluation::ensure_not_responsible;
use super::actions::find_with_plan;
use super::audit::{self, Actor, Entry};
use super::objectives::clean;
use super::tenancy::{find_in_org, scoped, update_versioned};
use crate::dto::evidence::{
    CreateEvidenceRequest, EvidenceListQuery, EvidenceResponse, FileResponse, ReviewEvidenceRequest,
    UpdateEvidenceRequest,
};
use crate::dto::pagination::{Page, PageParams};
use crate::dto::patch::{set, set_nullable};
use crate::dto::validate::Checks;
use crate::entities::category::Texts;
use crate::entities::enums::EventType;
use crate::entities::enums::{ActionStatus, AuditOperation, AuditResource, PlanStatus, ReviewStatus, Role};
use crate::entities::{action, evidence, evidence_file};
use crate::error::{ApiError, ErrorCode};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// 403 unless `actor` plans (admin, planner) or is responsible for the action.
pub fn ensure_may_report(actor: &Actor, a: &action::Model) -> Result<(), ApiError> {
    let plans = actor.roles.iter().any(|r| matches!(r, Role::Admin | Role::Planner));
    if plans || (actor.id.is_some() && actor.id == a.responsible_id) {
        return Ok(());
    }
    Err(ApiError::forbidden().detail(
        "Only the action's responsible user, planners and administrators report its evidence",
        "Solo el responsable de la acción, los planeadores y los administradores reportan sus evidencias",
    ))
}

fn ensure_not_accepted(e: &evidence::Model) -> Result<(), ApiError> {
    if e.review_status == ReviewStatus::Accepted {
        return Err(ApiError::conflict(
            ErrorCode::Immutable,
            "Accepted evidence can no longer change; report new evidence instead",
            "Una evidencia aceptada ya no puede cambiar; reporte una nueva evidencia",
        ));
    }
    Ok(())
}

fn check(c: &mut Checks, m: &evidence::Model) {
    c.text("description", &m.description, 20_000);
    if let Some(q) = m.reported_quantity {
        if !(q.is_finite() && (0.0..=1e12).contains(&q)) {
            c.push("reported_quantity", "out_of_range", "must be between 0 and 10^12");
        }
    }
    if let Some(date) = m.evidence_date {
        if date > super::calendar::today() {
            c.push("evidence_date", "in_future", "must not be in the future");
        }
    }
    if m.links.0.len() > 50 {
        c.push("links", "too_many", "at most 50 links");
    }
    for (i, link) in m.links.0.iter().enumerate() {
        let field = format!("links[{i}]");
        let scheme_ok = link.starts_with("https://") || link.starts_with("http://");
        if !scheme_ok || link.len() > 2000 || link.chars().any(|ch| ch.is_whitespace() || ch.is_control()) {
            c.push(&field, "invalid_url", "must be an http or https URL without spaces, at most 2000 characters");
        }
    }
}

/// The evidence `id` of `org`, locked for the transaction on PostgreSQL.
async fn find_for_update(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<evidence::Model, ApiError> {
    let mut select = scoped::<evidence::Entity>(org).filter(evidence::Column::Id.eq(id));
    if conn.get_database_backend() == DbBackend::Postgres {
        select = select.lock_exclusive();
    }
    select.one(conn).await?.ok_or_else(ApiError::not_found)
}

/// Files of each of `evidence`, oldest first.
async fn files_of(
    conn: &impl ConnectionTrait, ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<evidence_file::Model>>, ApiError> {
    let mut files: HashMap<Uuid, Vec<evidence_file::Model>> = HashMap::new();
    if ids.is_empty() {
        return Ok(files);
    }
    for f in evidence_file::Entity::find()
        .filter(evidence_file::Column::EvidenceId.is_in(ids.to_vec()))
        .order_by_asc(evidence_file::Column::Id)
        .all(conn)
        .await?
    {
        files.entry(f.evidence_id).or_default().push(f);
    }
    Ok(files)
}

/// The wire form of one piece of evidence.
pub async fn response(conn: &impl ConnectionTrait, m: evidence::Model) -> Result<EvidenceResponse, ApiError> {
    let files = files_of(conn, &[m.id]).await?.remove(&m.id).unwrap_or_default();
    Ok(EvidenceResponse::new(m, files))
}

/// Reports evidence on an action of an approved or running plan.
pub async fn create(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, action_id: Uuid, req: CreateEvidenceRequest,
) -> Result<EvidenceResponse, ApiError> {
    let (target, owner) = find_with_plan(conn, org, action_id).await?;
    ensure_may_report(actor, &target)?;
    let now = super::now();
    let model = evidence::Model {
        id: Uuid::now_v7(),
        action_id,
        cut_off_date: req.cut_off_date,
        evidence_date: req.evidence_date,
        description: req.description.trim().to_string(),
        reported_quantity: req.reported_quantity,
        links: Texts(req.links.iter().map(|l| l.trim().to_string()).collect()),
        review_status: ReviewStatus::Submitted,
        reviewed_by: None,
        reviewed_at: None,
        review_note: None,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    Checks::run(check, &model)?;
    if !matches!(owner.status, PlanStatus::Approved | PlanStatus::InProgress)
        || target.status == ActionStatus::Cancelled
    {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "Evidence is reported on actions (not cancelled) of approved or running plans",
            "Las evidencias se reportan sobre acciones no canceladas de planes aprobados o en ejecución",
        ));
    }
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, model.cut_off_date).await?;
    evidence::Entity::insert(evidence::ActiveModel::from(model.clone())).exec_without_returning(conn).await?;
    let created = EvidenceResponse::new(model, Vec::new());
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Evidence, created.id, AuditOperation::Create).after(&created),
    )
    .await?;
    super::events::record(conn, org, EventType::EvidenceSubmitted, AuditResource::Evidence, created.id, &created)
        .await?;
    Ok(created)
}

/// Evidence of `org`, oldest first, with filters.
pub async fn list(
    conn: &impl ConnectionTrait, org: Uuid, q: &EvidenceListQuery,
) -> Result<Page<EvidenceResponse>, ApiError> {
    let page = PageParams { limit: q.limit, cursor: q.cursor.clone() };
    let limit = page.limit()?;
    let mut select = scoped::<evidence::Entity>(org).order_by_asc(evidence::Column::Id);
    if let Some(cursor) = page.cursor("")? {
        select = select.filter(evidence::Column::Id.gt(cursor.id));
    }
    if let Some(action_id) = q.action_id {
        select = select.filter(evidence::Column::ActionId.eq(action_id));
    }
    if let Some(status) = q.review_status {
        select = select.filter(evidence::Column::ReviewStatus.eq(status));
    }
    let rows = select.limit(limit + 1).all(conn).await?;
    let ids: Vec<Uuid> = rows.iter().map(|e| e.id).collect();
    let mut files = files_of(conn, &ids).await?;
    Ok(Page::from_rows(
        rows,
        limit,
        "",
        |e| (None, e.id),
        |e| {
            let f = files.remove(&e.id).unwrap_or_default();
            EvidenceResponse::new(e, f)
        },
    ))
}

/// Applies a merge patch to evidence that is not accepted; it goes back to `submitted`.
pub async fn update(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: UpdateEvidenceRequest,
) -> Result<EvidenceResponse, ApiError> {
    let current = find_for_update(conn, org, id).await?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    ensure_may_report(actor, &target)?;
    let mut next = current.clone();
    set(&mut next.cut_off_date, req.cut_off_date);
    set_nullable(&mut next.evidence_date, req.evidence_date);
    set(&mut next.description, req.description.map(|d| d.trim().to_string()));
    set_nullable(&mut next.reported_quantity, req.reported_quantity);
    set(&mut next.links, req.links.map(|l| Texts(l.iter().map(|x| x.trim().to_string()).collect())));
    Checks::run(check, &next)?;
    check_evidence_version(current.version, expected_version)?;
    ensure_not_accepted(&current)?;
    let earliest = current.cut_off_date.min(next.cut_off_date);
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, earliest).await?;
    // A patch that changes nothing (`{}`, or the values already stored) is not a new version.
    if next == current {
        return response(conn, current).await;
    }
    let before = response(conn, current.clone()).await?;
    next.review_status = ReviewStatus::Submitted;
    next.reviewed_by = None;
    next.reviewed_at = None;
    next.review_note = None;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, evidence::ActiveModel::from(next.clone())).await?;
    let after = response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Evidence, id, AuditOperation::Update).before(&before).after(&after),
    )
    .await?;
    Ok(after)
}

/// Deletes evidence that is not accepted, with its file rows; returns the storage keys whose
/// bytes the caller deletes once the transaction commits.
pub async fn delete(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32,
) -> Result<Vec<String>, ApiError> {
    let current = find_for_update(conn, org, id).await?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    ensure_may_report(actor, &target)?;
    check_evidence_version(current.version, expected_version)?;
    ensure_not_accepted(&current)?;
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, current.cut_off_date).await?;
    let before = response(conn, current).await?;
    let keys: Vec<String> = evidence_file::Entity::find()
        .filter(evidence_file::Column::EvidenceId.eq(id))
        .select_only()
        .column(evidence_file::Column::StorageKey)
        .into_tuple()
        .all(conn)
        .await?;
    evidence_file::Entity::delete_many().filter(evidence_file::Column::EvidenceId.eq(id)).exec(conn).await?;
    evidence::Entity::delete_many()
        .filter(evidence::Column::OrganizationId.eq(org))
        .filter(evidence::Column::Id.eq(id))
        .exec(conn)
        .await?;
    audit::record(conn, actor, Entry::new(org, AuditResource::Evidence, id, AuditOperation::Delete).before(&before))
        .await?;
    Ok(keys)
}

/// An auditor's review of submitted evidence.
pub async fn review(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, expected_version: i32, req: ReviewEvidenceRequest,
) -> Result<EvidenceResponse, ApiError> {
    let current = find_for_update(conn, org, id).await?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    let note = clean(req.note);
    let mut c = Checks::new();
    if req.status == ReviewStatus::Submitted {
        c.push("status", "not_a_decision", "must be accepted, rejected or needs_changes");
    }
    if req.status != ReviewStatus::Accepted && note.is_none() {
        c.push("note", "required", "say why the evidence is not accepted");
    }
    c.optional_text("note", note.as_deref(), 5000);
    c.finish()?;
    if let Some(me) = actor.id {
        let own = current.created_by == Some(me)
            || audit::changed_by(conn, org, AuditResource::Evidence, id, me, &[AuditOperation::Review]).await?;
        if own {
            return Err(ApiError::new(ErrorCode::SegregationOfDuties).detail(
                "Nobody reviews evidence they reported or changed",
                "Nadie revisa una evidencia que reportó o modificó",
            ));
        }
    }
    ensure_not_responsible(conn, actor, &target).await?;
    check_evidence_version(current.version, expected_version)?;
    ensure_not_accepted(&current)?;
    if current.review_status != ReviewStatus::Submitted {
        return Err(ApiError::conflict(
            ErrorCode::InvalidTransition,
            "Only submitted evidence is reviewed; it must be corrected first",
            "Solo se revisa una evidencia enviada; primero debe corregirse",
        ));
    }
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, current.cut_off_date).await?;
    let before = response(conn, current.clone()).await?;
    let mut next = current.clone();
    next.review_status = req.status;
    next.review_note = note;
    next.reviewed_by = actor.id;
    next.reviewed_at = Some(super::now());
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, org, id, current.version, evidence::ActiveModel::from(next.clone())).await?;
    let evidence_date = next.evidence_date.unwrap_or(next.cut_off_date);
    let after = response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Evidence, id, AuditOperation::Review).before(&before).after(&after),
    )
    .await?;
    super::events::record(conn, org, EventType::EvidenceReviewed, AuditResource::Evidence, id, &after).await?;
    if req.status == ReviewStatus::Accepted {
        advance_action(conn, actor, target, evidence_date).await?;
    }
    Ok(after)
}

/// What accepted evidence does to its action: the first acceptance moves a planned action to
/// `in_progress`; acceptance that brings the accepted quantity to the target marks it `done`,
/// completed on the date the evidence represents (never before the action's start nor after
/// today). Cancelled and done actions are left alone. One audit event when it moves.
async fn advance_action(
    conn: &impl ConnectionTrait, actor: &Actor, current: action::Model, evidence_date: chrono::NaiveDate,
) -> Result<(), ApiError> {
    if !matches!(current.status, ActionStatus::Planned | ActionStatus::InProgress) {
        return Ok(());
    }
    let accepted =
        super::progress::accepted_quantities(conn, &[current.id]).await?.get(&current.id).copied().unwrap_or(0.0);
    let mut next = current.clone();
    if accepted >= current.target_quantity {
        next.status = ActionStatus::Done;
        next.completed_on = Some(evidence_date.min(super::calendar::today()).max(current.start_date));
    } else {
        next.status = ActionStatus::InProgress;
    }
    if next == current {
        return Ok(());
    }
    let before = super::actions::response(conn, current.clone()).await?;
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(
        conn,
        current.organization_id,
        current.id,
        current.version,
        action::ActiveModel::from(next.clone()),
    )
    .await?;
    let after = super::actions::response(conn, next).await?;
    audit::record(
        conn,
        actor,
        Entry::new(current.organization_id, AuditResource::Action, current.id, AuditOperation::Update)
            .before(&before)
            .after(&after),
    )
    .await?;
    super::events::action_changed(conn, &before, &after).await?;
    Ok(())
}

/// Checks, before any byte is read, that `actor` may attach a file to evidence `id`.
pub async fn ensure_may_attach(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid,
) -> Result<(), ApiError> {
    let current = find_in_org::<evidence::Entity>(conn, org, id).await?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    ensure_may_report(actor, &target)?;
    ensure_not_accepted(&current)?;
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, current.cut_off_date).await
}

/// Records a stored file on evidence `id` (which must still not be accepted) and bumps the
/// evidence's version, so a reviewer's `If-Match` covers its files. When the evidence already
/// has a file with the same SHA-256 that file is returned with `false` (nothing recorded) and
/// the caller drops the new copy: re-sending an upload does not duplicate it.
pub async fn attach(
    conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, id: Uuid, file: evidence_file::Model,
) -> Result<(FileResponse, bool), ApiError> {
    let current = find_for_update(conn, org, id).await?;
    ensure_not_accepted(&current)?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, current.cut_off_date).await?;
    let same = evidence_file::Entity::find()
        .filter(evidence_file::Column::EvidenceId.eq(id))
        .filter(evidence_file::Column::Sha256.eq(file.sha256.as_str()))
        .one(conn)
        .await?;
    if let Some(existing) = same {
        return Ok((FileResponse::from(existing), false));
    }
    evidence_file::Entity::insert(evidence_file::ActiveModel::from(file.clone())).exec_without_returning(conn).await?;
    bump(conn, actor, &current).await?;
    let stored = FileResponse::from(file);
    audit::record(conn, actor, Entry::new(org, AuditResource::Evidence, id, AuditOperation::AttachFile).after(&stored))
        .await?;
    Ok((stored, true))
}

/// Removes a file row from evidence that is not accepted; returns its storage key.
pub async fn detach(conn: &impl ConnectionTrait, actor: &Actor, org: Uuid, file_id: Uuid) -> Result<String, ApiError> {
    let file = find_in_org::<evidence_file::Entity>(conn, org, file_id).await?;
    let current = find_for_update(conn, org, file.evidence_id).await?;
    let target = find_in_org::<action::Entity>(conn, org, current.action_id).await?;
    ensure_may_report(actor, &target)?;
    ensure_not_accepted(&current)?;
    super::reporting_periods::ensure_not_closed(conn, org, target.plan_id, current.cut_off_date).await?;
    evidence_file::Entity::delete_many().filter(evidence_file::Column::Id.eq(file_id)).exec(conn).await?;
    bump(conn, actor, &current).await?;
    audit::record(
        conn,
        actor,
        Entry::new(org, AuditResource::Evidence, current.id, AuditOperation::DetachFile)
            .before(&FileResponse::from(file.clone())),
    )
    .await?;
    Ok(file.storage_key)
}

async fn bump(conn: &impl ConnectionTrait, actor: &Actor, current: &evidence::Model) -> Result<(), ApiError> {
    let mut next = current.clone();
    next.updated_at = super::now();
    next.updated_by = actor.id;
    next.version = current.version + 1;
    update_versioned(conn, current.organization_id, current.id, current.version, evidence::ActiveModel::from(next))
        .await
}

/// Evidence of `org`, as the API returns it; 404 when there is none.
pub async fn get(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<EvidenceResponse, ApiError> {
    response(conn, find_in_org::<evidence::Entity>(conn, org, id).await?).await
}

/// A stored file: what the API shows of it, its version and where its bytes are.
#[derive(Debug)]
pub struct StoredFile {
    /// The file as the API returns it.
    pub response: FileResponse,
    /// Row version (the `ETag`).
    pub version: i32,
    /// Key of the bytes in the file store.
    pub storage_key: String,
}

/// A stored file of `org`; 404 when there is none.
pub async fn file(conn: &impl ConnectionTrait, org: Uuid, id: Uuid) -> Result<StoredFile, ApiError> {
    let found = find_in_org::<evidence_file::Entity>(conn, org, id).await?;
    Ok(StoredFile { version: found.version, storage_key: found.storage_key.clone(), response: found.into() })
}

/// What a route knows of a file it has just stored, before it is recorded.
#[derive(Debug)]
pub struct NewFile {
    /// Id chosen for the file (part of its storage key).
    pub id: Uuid,
    /// Cleaned file name.
    pub name: String,
    /// Detected media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Where the bytes are stored.
    pub storage_key: String,
}

/// Records `file` on evidence `id` in one transaction (see [`attach`]).
pub async fn attach_new(
    db: &sea_orm::DatabaseConnection, actor: &Actor, org: Uuid, id: Uuid, file: NewFile,
) -> Result<(FileResponse, bool), ApiError> {
    let now = super::now();
    let model = evidence_file::Model {
        id: file.id,
        evidence_id: id,
        name: file.name,
        media_type: file.media_type,
        size: i64::try_from(file.size).unwrap_or(i64::MAX),
        sha256: file.sha256,
        storage_key: file.storage_key,
        organization_id: org,
        created_at: now,
        updated_at: now,
        created_by: actor.id,
        updated_by: actor.id,
        version: 1,
    };
    super::transaction(db, async |txn| attach(txn, actor, org, id, model).await).await
}

/// [`ApiError::check_version`], saying that a file attached or removed also moves the version.
fn check_evidence_version(current: i32, sent: i32) -> Result<(), ApiError> {
    ApiError::check_version(current, sent).map_err(|e| {
        e.and_detail(
            "Attaching or removing a file also changes the evidence's version.",
            "Adjuntar o quitar un archivo también cambia la versión de la evidencia.",
        )
    })
}
