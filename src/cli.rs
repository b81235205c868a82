//! Command line: `serve` (default), `migrate up|down|status`, `openapi`, `user create|reset-password`,
//! `organization list`, `backup`, `restore`, `verify-backup`.
use crate::config::{Config, LogFormat};
use crate::dto::identity::CreateUserRequest;
use crate::entities::enums::Role;
use crate::services::bootstrap;
use crate::startup::{self, Application};
use crate::{openapi, telemetry};
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use std::process::ExitCode;

/// mejora: MSPI information-security continuous improvement service.
#[derive(Debug, Parser)]
#[command(name = "mejora", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (applies pending migrations first).
    Serve,
    /// Manage the database schema.
    Migrate {
        /// Direction.
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document.
    Openapi {
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
    },
    /// Manage users from scripts.
    User {
        /// Action.
        #[command(subcommand)]
        action: UserAction,
    },
    /// Look up organizations (their ids are what `user create --organization` takes).
    Organization {
        /// Action.
        #[command(subcommand)]
        action: OrganizationAction,
    },
    /// Write a consistent online backup (database snapshot, every evidence file it references
    /// and a manifest with their SHA-256) to one archive. On PostgreSQL it runs `pg_dump`.
    Backup {
        /// The archive to write (replaced only once complete).
        #[arg(long)]
        output: std::path::PathBuf,
    },
    /// Restore an archive into a new, empty database (DATABASE_URL) and store
    /// (MEJORA_STORAGE_URL), then check every evidence file and audit chain.
    Restore {
        /// The archive `mejora backup` wrote.
        #[arg(long)]
        input: std::path::PathBuf,
    },
    /// Check an archive: every file against its SHA-256 and (SQLite) the audit chains inside.
    VerifyBackup {
        /// The archive `mejora backup` wrote.
        input: std::path::PathBuf,
    },
}

/// Organization actions.
#[derive(Debug, Subcommand)]
pub enum OrganizationAction {
    /// List every organization: id, NIT, name.
    List,
}

/// Migration actions.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Roll back migrations.
    Down {
        /// How many to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

/// User actions.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create a user; with `--organization-name` and `--tax-id` also creates its organization.
    /// The password comes from MEJORA_USER_PASSWORD or is generated and printed once.
    Create {
        /// E-mail (sign-in name).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Roles, comma separated (admin, planner, responsible, auditor, viewer).
        #[arg(long, value_delimiter = ',', default_value = "viewer")]
        roles: Vec<String>,
        /// Existing organization id.
        #[arg(long, conflicts_with_all = ["organization_name", "tax_id"])]
        organization: Option<uuid::Uuid>,
        /// Name of a new organization.
        #[arg(long, requires = "tax_id")]
        organization_name: Option<String>,
        /// NIT of the new organization.
        #[arg(long, requires = "organization_name")]
        tax_id: Option<String>,
    },
    /// Give a user a new password (for an operator who lost the first one) and revoke the
    /// user's refresh tokens. The password comes from MEJORA_USER_PASSWORD or is generated and
    /// printed once.
    ResetPassword {
        /// E-mail the user signs in with.
        #[arg(long)]
        email: String,
    },
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi { output }) = &cli.command {
        let text = openapi::to_pretty_json(&openapi::document());
        return match output {
            Some(path) => match std::fs::write(path, text) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            },
            None => {
                print!("{text}");
                ExitCode::SUCCESS
            }
        };
    }
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let log_format = config.log_format;
    let _traces = telemetry::init(log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => actix_web::rt::System::new().block_on(serve(config)),
        Command::Migrate { action } => runtime.block_on(migrate(config, action)),
        Command::User { action } => runtime.block_on(user(config, action)),
        Command::Organization { action: OrganizationAction::List } => runtime.block_on(organizations(config)),
        Command::Openapi { .. } => Ok(()),
        Command::Backup { output } => runtime.block_on(backup(config, output)),
        Command::Restore { input } => runtime.block_on(restore(config, input)),
        Command::VerifyBackup { input } => runtime.block_on(verify_backup(input)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Once: people read the plain line, log shippers the JSON record.
            match log_format {
                LogFormat::Json => tracing::error!("{e:#}"),
                LogFormat::Pretty => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.jwt_secret_generated {
        tracing::warn!("MEJORA_JWT_SECRET is not set: using a random key, so tokens end when the process stops");
    }
    let db_label = startup::redact(&config.database_url);
    let configured = if config.cors_origins.is_empty() { "none".to_string() } else { config.cors_origins.join(", ") };
    if config.environment == crate::config::Environment::Development {
        tracing::info!(
            "CORS: development mode allows browser origins http://localhost:*, http://127.0.0.1:* and http://[::1]:*; \
             MEJORA_CORS_ORIGINS adds: {configured}"
        );
    } else {
        tracing::info!("CORS: browser origins allowed by MEJORA_CORS_ORIGINS: {configured}");
    }
    crate::startup::log_dependencies(&config);
    let app = Application::build(config).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let mut email = "…".to_string();
    if let Some(created) = app.bootstrap() {
        println!(
            "First start: created organization \"{}\" and its administrator {}",
            created.organization, created.email
        );
        email.clone_from(&created.email);
        match &created.generated_password {
            Some(generated) => println!("  generated password (shown only now): {generated}"),
            None => println!("  password: the value of MEJORA_BOOTSTRAP_PASSWORD"),
        }
    }
    println!("mejora listening on port {} (database {db_label})", app.port());
    println!("  API docs:  {base}/docs/");
    println!("  sign in:   curl -s -X POST {base}/api/v1/auth/login -H 'Content-Type: application/json' -d '{{\"email\":\"{email}\",\"password\":\"…\"}}'");
    tracing::info!(port = app.port(), "listening");
    release_startup_memory();
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Building each worker's routes and the OpenAPI document allocates a few megabytes that are
/// freed at once but kept by the allocator; hand them back to the system once the workers are
/// up, so an idle replica stays small.
fn release_startup_memory() {
    std::thread::spawn(|| {
        std::thread::sleep(std::time::Duration::from_secs(2));
        trim();
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: `malloc_trim` only returns free memory to the system; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    if matches!(action, MigrateAction::Status | MigrateAction::Down { .. }) {
        if let Some(file) = missing_sqlite_file(&config.database_url) {
            // Opening the default URL (`mode=rwc`) would create an empty database just to look.
            eprintln!("no database at {file} yet: every migration is pending (`mejora migrate up` creates it)");
            if matches!(action, MigrateAction::Status) {
                for m in Migrator::migrations() {
                    println!("Pending\t{}", m.name());
                }
            }
            return Ok(());
        }
    }
    let db = startup::connect(&config).await?;
    match action {
        MigrateAction::Up => {
            Migrator::up(&db, None).await?;
            println!("migrations applied");
        }
        MigrateAction::Down { steps } => {
            let before = applied(&db).await?;
            Migrator::down(&db, Some(steps)).await?;
            let rolled_back = before.saturating_sub(applied(&db).await?);
            println!("rolled back {rolled_back} migration(s)");
        }
        MigrateAction::Status => {
            for m in Migrator::get_migration_with_status(&db).await? {
                println!("{:?}\t{}", m.status(), m.name());
            }
        }
    }
    Ok(())
}

async fn applied(db: &sea_orm::DatabaseConnection) -> anyhow::Result<usize> {
    Ok(Migrator::get_applied_migrations(db).await?.len())
}

/// The file an SQLite URL names, when it does not exist yet.
fn missing_sqlite_file(url: &str) -> Option<String> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let file = path.split('?').next().unwrap_or("");
    (!file.is_empty() && file != ":memory:" && !std::path::Path::new(file).exists()).then(|| file.to_string())
}

async fn backup(config: Config, output: std::path::PathBuf) -> anyhow::Result<()> {
    use crate::services::{backup, storage::Storage};
    let db = startup::connect(&config).await?;
    let storage = Storage::from_url(&config.storage_url)?;
    let manifest = backup::create(&db, &config.database_url, &storage, &output).await?;
    let bytes: i64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "backup written to {}: {} database, {} evidence files ({bytes} bytes), {} audit chains",
        output.display(),
        manifest.backend,
        manifest.files.len(),
        manifest.chains.len()
    );
    Ok(())
}

fn print_report(report: &crate::services::backup::Report) -> anyhow::Result<()> {
    println!(
        "{} evidence files ({} bytes) match their SHA-256; {} audit chains ({} events) verified",
        report.files_checked, report.bytes_checked, report.chains_verified, report.events_verified
    );
    for problem in &report.problems {
        println!("PROBLEM: {problem}");
    }
    if report.ok() {
        Ok(())
    } else {
        anyhow::bail!("{} problem(s) found", report.problems.len())
    }
}

async fn restore(config: Config, input: std::path::PathBuf) -> anyhow::Result<()> {
    use crate::services::{backup, storage::Storage};
    let storage = Storage::from_url(&config.storage_url)?;
    let (manifest, report) = backup::restore(&input, &config.database_url, &storage).await?;
    println!(
        "restored the {} backup of {} into {}",
        manifest.backend,
        manifest.created_at.to_rfc3339(),
        startup::redact(&config.database_url)
    );
    print_report(&report)
}

async fn verify_backup(input: std::path::PathBuf) -> anyhow::Result<()> {
    let (manifest, report) = crate::services::backup::verify_archive(&input).await?;
    println!("{} backup of {}", manifest.backend, manifest.created_at.to_rfc3339());
    print_report(&report)
}

async fn organizations(config: Config) -> anyhow::Result<()> {
    let db = startup::connect(&config).await?;
    Migrator::up(&db, None).await?;
    let all = bootstrap::organizations(&db).await.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    if all.is_empty() {
        eprintln!("no organizations yet: `mejora` creates the first one on its first start");
    }
    for org in all {
        println!("{}\t{}\t{}", org.id, org.tax_id, org.name);
    }
    Ok(())
}

async fn user(config: Config, action: UserAction) -> anyhow::Result<()> {
    let (email, name, roles, organization, organization_name, tax_id) = match action {
        UserAction::Create { email, name, roles, organization, organization_name, tax_id } => {
            (email, name, roles, organization, organization_name, tax_id)
        }
        UserAction::ResetPassword { email } => return reset_password(config, &email).await,
    };
    let roles = roles
        .iter()
        .map(|r| Role::parse_label(r).ok_or_else(|| anyhow::anyhow!("unknown role {r:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let db = startup::connect(&config).await?;
    Migrator::up(&db, None).await?;
    let given = std::env::var("MEJORA_USER_PASSWORD").ok().filter(|p| !p.is_empty());
    let password = given.clone().unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let created = match (organization, organization_name, tax_id) {
        (Some(org), _, _) => {
            let request =
                CreateUserRequest { email, display_name: name, password: password.clone(), roles, unit: None };
            bootstrap::add_user(&db, org, request).await.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?
        }
        (None, Some(org_name), Some(tax_id)) => {
            bootstrap::create_organization_with_admin(
                &db,
                &org_name,
                &tax_id,
                &email,
                &name,
                password.clone(),
                roles,
                false,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?
            .1
        }
        _ => anyhow::bail!("give --organization ID, or --organization-name and --tax-id"),
    };
    println!("created user {} ({}) in organization {}", created.email, created.id, created.organization_id);
    if given.is_none() {
        println!("generated password (shown only now): {password}");
    }
    Ok(())
}

async fn reset_password(config: Config, email: &str) -> anyhow::Result<()> {
    let db = startup::connect(&config).await?;
    Migrator::up(&db, None).await?;
    let given = std::env::var("MEJORA_USER_PASSWORD").ok().filter(|p| !p.is_empty());
    let (user, generated) =
        bootstrap::reset_password(&db, email, given).await.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    println!("new password set for {} ({}); its refresh tokens are revoked", user.email, user.id);
    if let Some(password) = generated {
        println!("generated password (shown only now): {password}");
    }
    Ok(())
}

fn describe(e: &crate::error::ApiError) -> String {
    let mut text = format!("{} ({})", e.code.title_en(), e.code.as_str());
    for f in &e.errors {
        text.push_str(&format!("; {}: {}", f.field, f.message));
    }
    if let Some(d) = &e.detail {
        text.push_str(&format!("; {}", d.en));
    }
    text
}
