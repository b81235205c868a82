//! Who is calling and what they may do. Handlers name their policy in their signature:
//! `auth: Auth<PlanWriter>` can only be extracted for a principal holding one of the roles
//! the policy lists, so reading the signature tells who may call the handler.
pub mod jwt;
pub mod password;

use crate::entities::enums::{Role, Roles};
use crate::entities::{service_account, user};
use crate::error::{ApiError, ErrorCode};
use crate::http::RequestContext;
use crate::startup::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use jwt::PrincipalKind;
use sea_orm::EntityTrait;
use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::RwLock;
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
        Box::pin(async move {
            let principal = authenticate(&req).await?;
            let allowed = if P::PLATFORM_OPERATOR {
                principal.platform_operator
            } else {
                P::ROLES.iter().any(|r| principal.has(*r))
            };
            if !allowed {
                return Err(ApiError::forbidden());
            }
            Ok(Auth { principal, _policy: PhantomData })
        })
    }
}

/// Middleware: loads the caller's principal into the cache before the handler's extractors
/// run. Extractors are polled together and the first to fail answers; with the principal
/// cached, `Auth<P>` decides on its first poll, so a caller whose roles do not allow a write
/// gets 403 whatever the body or path (not a 400 about a body it may not send at all).
pub async fn authenticate_first(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let reads = matches!(*req.method(), actix_web::http::Method::GET | actix_web::http::Method::HEAD);
    if !reads && req.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
        // The outcome is the handler's to report; this only warms the cache.
        let _ = authenticate(req.request()).await;
    }
    next.call(req).await
}

async fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
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
        &self,
        db: &sea_orm::DatabaseConnection,
        id: Uuid,
        kind: PrincipalKind,
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
