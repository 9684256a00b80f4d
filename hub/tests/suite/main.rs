//! The hub's integration tests, one binary so the workspace links them once: each module is
//! one area (its own file), `support` starts real `hub serve` processes and the sandbox.
//! Run one area with `cargo test -p hub --test suite <module>::`.

mod support;

mod agent_watch;
mod api_http;
mod cli_config;
mod connection_actions;
mod connection_status;
mod crash_serving;
mod crash_twoway;
mod endpoint_secrets;
mod engine_oneway;
mod engine_retry;
mod engine_twoway;
mod flow_schema;
mod hub_shutdown;
mod inquiries;
mod kintone_zoho_e2e;
mod lookup_writeback;
mod metrics_scrape;
mod notifications;
mod oauth_zoho;
mod obc_csv_e2e;
mod obc_csv_gaiji;
mod obc_zoho_e2e;
mod openapi_doc;
mod plugin_boundary;
mod retry_failed;
mod run_undo;
mod scale_out_postgres;
mod schedule_missed;
mod seed_scenarios;
mod seed_writeback;
mod serve_sandbox;
mod token_roles;
mod zoho_notes_e2e;
mod zoho_orgs_full_run;
