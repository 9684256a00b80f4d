//! `hub`: Renkei Hub's command line (API.md). Errors are reported here, at the edge, with anyhow.

mod commands;
mod config;
mod logging;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "hub",
    version,
    about = "Renkei Hub (連携ハブ): keeps 奉行, kintone, Notes and Zoho CRM in step"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Default)]
struct Common {
    /// Database URL: sqlite://PATH (default sqlite://data/hub.db) or postgres://USER@HOST/DB
    #[arg(long = "database", global = true)]
    database: Option<String>,
    /// Directory with connector plugins (repeatable; default: beside this executable)
    #[arg(long = "plugins", global = true)]
    plugins: Vec<PathBuf>,
    /// Log format: human or json
    #[arg(long = "log-format", global = true)]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Web UI + HTTP API + scheduler + runner
    Serve {
        /// Address to listen on (default 127.0.0.1:8080)
        #[arg(long)]
        listen: Option<String>,
        /// Also start the sandbox emulators and register a connection for each of them
        #[arg(long)]
        sandbox: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Only the sandbox emulators; prints one JSON line with their URLs and credentials
    Sandbox {
        /// Fixed ports: kintone = N, zoho_accounts = N+1, zoho_crm = N+2, domino = N+3, obc = N+4
        #[arg(long)]
        port_base: Option<u16>,
        /// Keep the emulators' data in this directory across restarts
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Generate this many extra records per main object (benchmarks)
        #[arg(long, default_value_t = 0)]
        extra_records: usize,
    },
    /// Apply database migrations and exit
    Migrate {
        #[command(flatten)]
        common: Common,
    },
    /// List loaded connector plugins and those refused, with why
    Connectors {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Run one flow in the foreground and print the summary (exit 1 on failure)
    Run {
        /// Flow id
        flow: String,
        #[command(flatten)]
        common: Common,
    },
    /// API tokens
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// The master key that encrypts stored secrets
    Key {
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Web UI users
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// On the PC where 奉行 writes CSV files: send them to a hub
    Agent {
        #[command(subcommand)]
        action: AgentAction,
    },
    /// Internal: the process that loads a plugin and serves calls for the hub
    #[command(hide = true)]
    Worker {
        #[arg(long, conflicts_with = "probe")]
        plugin: Option<PathBuf>,
        #[arg(long)]
        probe: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum KeyAction {
    /// Make a new master key and re-encrypt every stored secret under it (one transaction)
    Rotate {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AdminAction {
    /// Create a web UI user; the password is read from standard input (one line)
    Create {
        name: String,
        /// admin (all) or operator (run and view)
        #[arg(long, default_value = "admin")]
        role: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AgentAction {
    /// Send every file that stopped growing in DIR/<object id>/ to the hub's connection,
    /// then move it into DIR/<object id>/sent/ (a failed upload is tried again)
    Watch {
        /// The hub's URL, e.g. https://hub.example.jp
        #[arg(long)]
        server: String,
        /// The watched folder: one subfolder per object id (e.g. csv_customers)
        #[arg(long)]
        dir: PathBuf,
        /// API token (`hub token create NAME`); or the variable HUB_AGENT_TOKEN
        #[arg(long, env = "HUB_AGENT_TOKEN", hide_env_values = true)]
        token: String,
        /// The connection id the files belong to
        #[arg(long)]
        connection: String,
        /// One pass, then exit (1 if a file could not be sent)
        #[arg(long)]
        once: bool,
        /// Seconds between passes when no file event comes first (network drives often send none)
        #[arg(long, default_value_t = 10)]
        interval_secs: u64,
        /// Milliseconds a file's size must stay the same before it is sent
        #[arg(long, default_value_t = 2000)]
        settle_ms: u64,
        /// Log format: human or json
        #[arg(long = "log-format")]
        log_format: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Print a new API token (stored hashed; shown only now)
    Create {
        name: String,
        /// What it may do on /api: admin (everything; the default, as before roles existed),
        /// operator (run, retry, undo, preview, check, token refresh; read) or read_only
        #[arg(long, default_value = "admin")]
        role: String,
        /// Lifetime from now: Nd (days) or Nh (hours), e.g. 90d; default: never expires
        #[arg(long)]
        expires: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List API tokens (never their values): role, state, expiry, last use
    List {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke an API token by id, or by name when one active token has it
    Revoke {
        name_or_id: String,
        #[command(flatten)]
        common: Common,
    },
}

fn flags(common: &Common, listen: Option<String>) -> config::FlagConfig {
    config::FlagConfig {
        listen,
        database_url: common.database.clone(),
        plugins: common.plugins.clone(),
        log_format: common.log_format.clone(),
    }
}

fn main() -> ExitCode {
    hub_core::memory::limit_malloc_arenas();
    let cli = Cli::parse();
    // The worker must not start a runtime or logging before the plugin is loaded: it is a
    // plain loop over its pipes.
    if let Command::Worker { plugin, probe } = &cli.command {
        return match (plugin, probe) {
            (Some(p), None) => hub_core::plugins::worker::run_worker(p),
            (None, Some(p)) => hub_core::plugins::worker::run_probe(p),
            _ => {
                eprintln!("hub worker: give --plugin PATH or --probe PATH");
                ExitCode::from(2)
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(dispatch(cli.command));
    // Whatever is still running (a request stuck in a hung plugin call after the shutdown
    // bound) is dropped, which kills its worker; blocking threads are not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve {
            listen,
            sandbox,
            common,
        } => {
            let cfg = config::load(&flags(&common, listen))?;
            logging::init(cfg.json_logs);
            commands::serve::serve(cfg, sandbox).await
        }
        Command::Sandbox {
            port_base,
            data_dir,
            extra_records,
        } => {
            logging::init(false);
            commands::sandbox::run(port_base, data_dir, extra_records).await
        }
        Command::Migrate { common } => {
            let cfg = config::load(&flags(&common, None))?;
            logging::init(cfg.json_logs);
            commands::open_store(&cfg).await?;
            println!(
                "migrations applied to {}",
                commands::redact_url(&cfg.database_url)
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Connectors { json, common } => {
            let cfg = config::load(&flags(&common, None))?;
            logging::init(cfg.json_logs);
            commands::connectors::list(&cfg, json).await
        }
        Command::Run { flow, common } => {
            let cfg = config::load(&flags(&common, None))?;
            logging::init(cfg.json_logs);
            commands::run::run(&cfg, &flow).await
        }
        Command::Token { action } => match action {
            TokenAction::Create {
                name,
                role,
                expires,
                common,
            } => {
                let cfg = config::load(&flags(&common, None))?;
                logging::init(cfg.json_logs);
                commands::token::create(&cfg, &name, &role, expires.as_deref()).await
            }
            TokenAction::List { json, common } => {
                let cfg = config::load(&flags(&common, None))?;
                logging::init(cfg.json_logs);
                commands::token::list(&cfg, json).await
            }
            TokenAction::Revoke { name_or_id, common } => {
                let cfg = config::load(&flags(&common, None))?;
                logging::init(cfg.json_logs);
                commands::token::revoke(&cfg, &name_or_id).await
            }
        },
        Command::Key {
            action: KeyAction::Rotate { common },
        } => {
            let cfg = config::load(&flags(&common, None))?;
            logging::init(cfg.json_logs);
            commands::key::rotate(&cfg).await
        }
        Command::Admin {
            action: AdminAction::Create { name, role, common },
        } => {
            let cfg = config::load(&flags(&common, None))?;
            logging::init(cfg.json_logs);
            commands::admin::create(&cfg, &name, &role).await
        }
        Command::Agent {
            action:
                AgentAction::Watch {
                    server,
                    dir,
                    token,
                    connection,
                    once,
                    interval_secs,
                    settle_ms,
                    log_format,
                },
        } => {
            logging::init(log_format.as_deref() == Some("json"));
            commands::agent::watch(commands::agent::WatchArgs {
                server,
                dir,
                token,
                connection,
                once,
                interval: std::time::Duration::from_secs(interval_secs.max(1)),
                settle: std::time::Duration::from_millis(settle_ms),
            })
            .await
        }
        Command::Worker { .. } => Ok(ExitCode::from(2)),
    }
}
