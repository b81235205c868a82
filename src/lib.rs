//! mejora: the MSPI continuous-improvement service. Layers: `routes` (HTTP) → `services`
//! (rules, queries, audit, tenancy) → `entities` (tables).
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
pub mod telemetry;
