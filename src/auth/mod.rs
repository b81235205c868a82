//! Who is calling and what they may do. Handlers name their policy in their signature:
//! `auth: Auth<PlanWriter>` can only be extracted for a principal holding one of the roles
//! the policy lists, so reading the signature tells who may call the handler.
pub mod jwt;
pub mod password;

use crate::entities::enums::{Role, Roles};
use crate::entities::{service_account, user};
use crate::error::{ApiError, ErrorCode};
use crate::telemetry::RequestContext;
use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use jwt::{PrincipalKind, TokenService};
use sea_orm::EntityTrait;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// An authenticated caller with the context every audit event needs.
#[derive(Debug, Clone)]
pub struct Principal {
    /// User or service-account id.
    pub id: Uuid,
    /// User or service account.
    pub kind: PrincipalKind,
    /// The organization whose data this principal may see.
    pub organization_id: Uuid,
    /// Current roles (read from the database, not trusted from the token).
    pub roles: Roles,
    /// May create organizations.
    pub platform_operator: bool,
    /// Request id, for the audit trail.
    pub request_id: Option<String>,
    /// Client address, for the audit trail.
    pub client_addr: Option<String>,
}

impl Principal {
    /// True when the principal holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.has(role)
    }
}

/// Which roles a handler admits.
pub trait Policy {
    /// Roles of which the principal must hold at least one.
    const ROLES: &'static [Role];
    /// Whether the platform-operator flag is required instead of a role.
    const PLATFORM_OPERATOR: bool = false;
}

macro_rules! policies {
    ($($(#[$meta:meta])* $name:ident => [$($role:ident),*] $(, platform = $platform:expr)?;)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug)]
            pub struct $name;
            impl Policy for $name {
                const ROLES: &'static [Role] = &[$(Role::$role),*];
                $(const PLATFORM_OPERATOR: bool = $platform;)?
            }
        )+
    };
}

policies! {
    /// Any principal of the organization (every role reads).
    AnyMember => [Admin, Planner, Responsible, Auditor, Viewer];
    /// Administrators: users and service accounts.
    Admin => [Admin];
    /// Plan authors: plans, categories, actions, objectives.
    PlanWriter => [Admin, Planner];
    /// Auditors: findings, evidence review, evaluations.
    AuditorOnly => [Auditor];
    /// Who may report evidence: the responsible, planners and admins.
    EvidenceReporter => [Responsible, Planner, Admin];
    /// Who may read the audit trail.
    AuditReader => [Admin, Auditor];
    /// Who may link findings to plans and actions.
    FindingLinker => [Admin, Planner, Auditor];
    /// Who may write risks and their controls: planners, administrators, and a `responsible`
    /// for the risks they own (checked by the service).
    RiskWriter => [Admin, Planner, Responsible];
    /// Who may review risks: planners and administrators (second line), auditors (third line).
    RiskReviewer => [Admin, Planner, Auditor];
    /// Who may record a materialised risk: risk writers and auditors.
    RiskIncidentReporter => [Admin, Planner, Responsible, Auditor];
    /// The platform operator (creates organizations).
    PlatformOperator => [], platform = true;
}

/// Extractor that authenticates the bearer token and checks policy `P`.
#[derive(Debug)]
pub struct Auth<P: Policy> {
    /// The authenticated principal.
    pub principal: Principal,
    _policy: PhantomData<P>,
}

impl<P: Policy> std::ops::Deref for Auth<P> {
    type Target = Principal;
    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<P: Policy + 'static> FromRequest for Auth<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        let checked = req.extensions_mut().remove::<Checked>();
        let query = req.extensions_mut().remove::<Deferred>();
        Box::pin(async move {
            let principal = match checked {
                Some(Checked(outcome)) => outcome?,
                None => authenticate(&req).await?,
            };
            let allowed = if P::PLATFORM_OPERATOR {
                principal.platform_operator
            } else {
                P::ROLES.iter().any(|r| principal.has(*r))
            };
            if !allowed {
                return Err(needs::<P>());
            }
            if let Some(rejected) = query {
                return Err(rejected.0);
            }
            Ok(Auth { principal, _policy: PhantomData })
        })
    }
}

/// 403 naming the roles (or the platform-operator flag) the operation needs.
fn needs<P: Policy>() -> ApiError {
    if P::PLATFORM_OPERATOR {
        return ApiError::forbidden().detail(
            "Only the platform operator (the first administrator) may do this",
            "Solo el operador de la plataforma (el primer administrador) puede hacer esto",
        );
    }
    let codes: Vec<&str> = P::ROLES.iter().map(|r| r.code()).collect();
    let labels: Vec<&str> = P::ROLES.iter().map(|r| r.label_es()).collect();
    ApiError::forbidden().detail(
        format!("This operation needs one of the roles: {}", codes.join(", ")),
        format!("Esta operación requiere uno de los roles: {}", labels.join(", ")),
    )
}

/// What the token check needs, registered as its own application data so that this module
/// depends on nothing above it (the application state in `crate::state` holds the same parts).
pub struct Authenticator {
    /// Connection pool (principal lookups).
    pub db: sea_orm::DatabaseConnection,
    /// Access-token verifier.
    pub tokens: TokenService,
    /// Cache of principals' current roles and active flags, shared with the application state.
    pub principals: Arc<PrincipalCache>,
}

/// An error a middleware found before the handler ran (a query string that breaks the
/// documented schema), answered by [`Auth`] only after the role check, so a caller without
/// the role always gets 403 first.
pub struct Deferred(pub ApiError);

/// The bearer-token check of one request, made by [`check_bearer`] before the handler runs.
struct Checked(Result<Principal, ApiError>);

/// Middleware: checks the bearer token before any handler argument is extracted. Actix polls a
/// handler's extractors together and answers the first error; without this, a body that fails
/// to parse could win the race against the (asynchronous) principal lookup, and a caller
/// without the role would get 400 instead of 403 depending on timing. With the check done
/// here, [`Auth`] resolves on its first poll and its refusal always comes first.
pub async fn check_bearer(
    req: ServiceRequest, next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
        let http = req.request().clone();
        let outcome = authenticate(&http).await;
        req.extensions_mut().insert(Checked(outcome));
    }
    next.call(req).await
}

/// The caller [`check_bearer`] authenticated, as `(principal id, organization id)`; `None` for
/// a request without a valid token. For middleware that runs inside the bearer check.
pub fn checked_caller(req: &ServiceRequest) -> Option<(Uuid, Uuid)> {
    match req.extensions().get::<Checked>() {
        Some(Checked(Ok(p))) => Some((p.id, p.organization_id)),
        _ => None,
    }
}

async fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<Authenticator>>()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("application state missing")))?;
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    let claims = state.tokens.verify(token).ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    let current = state.principals.get(&state.db, claims.sub, claims.kind).await?;
    let current = current
        .filter(|p| p.active && p.organization_id == claims.org)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidToken))?;
    let ctx = req.extensions().get::<RequestContext>().cloned();
    Ok(Principal {
        id: claims.sub,
        kind: claims.kind,
        organization_id: current.organization_id,
        roles: current.roles,
        platform_operator: current.platform_operator,
        request_id: ctx.as_ref().map(|c| c.request_id.clone()),
        client_addr: ctx.and_then(|c| c.client_addr),
    })
}

/// What the token check needs to know about a principal, as stored now.
#[derive(Debug, Clone)]
pub struct PrincipalState {
    /// Whether the account may sign in.
    pub active: bool,
    /// Organization.
    pub organization_id: Uuid,
    /// Current roles.
    pub roles: Roles,
    /// Platform operator flag.
    pub platform_operator: bool,
}

/// A cached state (`None`: no such principal) and when it was read.
type CacheEntry = (Option<PrincipalState>, Instant);

/// A short-lived per-process cache of principal states, so a token check does not cost a query
/// per request. Changes made through this process invalidate the entry at once; other replicas
/// see them within [`PrincipalCache::TTL`].
#[derive(Default)]
pub struct PrincipalCache {
    entries: RwLock<HashMap<(Uuid, PrincipalKind), CacheEntry>>,
}

impl PrincipalCache {
    /// How long another replica's change may take to be seen.
    pub const TTL: Duration = Duration::from_secs(5);

    /// The principal's current state (cached), or `None` when it does not exist.
    pub async fn get(
        &self, db: &sea_orm::DatabaseConnection, id: Uuid, kind: PrincipalKind,
    ) -> Result<Option<PrincipalState>, ApiError> {
        if let Ok(entries) = self.entries.read() {
            if let Some((state, at)) = entries.get(&(id, kind)) {
                if at.elapsed() < Self::TTL {
                    return Ok(state.clone());
                }
            }
        }
        let state = match kind {
            PrincipalKind::User => user::Entity::find_by_id(id).one(db).await?.map(|u| PrincipalState {
                active: u.active,
                organization_id: u.organization_id,
                roles: u.roles,
                platform_operator: u.platform_operator,
            }),
            PrincipalKind::ServiceAccount => {
                service_account::Entity::find_by_id(id).one(db).await?.map(|a| PrincipalState {
                    active: a.active,
                    organization_id: a.organization_id,
                    roles: a.roles,
                    platform_operator: false,
                })
            }
        };
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() > 100_000 {
                entries.clear();
            }
            entries.insert((id, kind), (state.clone(), Instant::now()));
        }
        Ok(state)
    }

    /// Forgets a principal after its roles or active flag changed.
    pub fn invalidate(&self, id: Uuid) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(&(id, PrincipalKind::User));
            entries.remove(&(id, PrincipalKind::ServiceAccount));
        }
    }
}
