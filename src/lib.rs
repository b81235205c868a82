//! mejora: the MSPI continuous-improvement service. Layers: entry (`cli`, `startup`, `openapi`)
//! → `routes` (HTTP) → `services` (rules, queries, transactions) → `entities` (tables), over the
//! foundations `auth`, `http`, `dto`, `error`, `config`, `messages` and `telemetry`; see
//! `docs/ARCHITECTURE.md`, checked by `tests/architecture.rs`.
pub mod auth;
pub mod cli;
pub mod config;
pub mod dto;
pub mod entities;
pub mod error;
pub mod http;
pub mod messages;
pub mod openapi;
pub mod ops;
pub mod routes;
pub mod services;
pub mod startup;
pub mod state;
pub mod telemetry;
