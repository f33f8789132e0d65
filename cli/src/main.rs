//! The `gqlauto` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gqlauto::commands::{self, DiagFormat};

/// Compile a data-model manifest into a GraphQL server crate (async-graphql, axum, Diesel).
#[derive(Debug, Parser)]
#[command(name = "gqlauto", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a commented starter manifest, `gqlauto.yaml`, into DIR.
    Init {
        /// Directory for the manifest (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Validate a manifest and report every problem in it.
    Check {
        /// The manifest: .yaml, .yml or .json.
        manifest: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        format: DiagFormat,
    },
    /// Generate (or update) the server crate for a manifest.
    Generate {
        /// The manifest: .yaml, .yml or .json.
        manifest: PathBuf,
        /// Directory of the generated crate.
        #[arg(long)]
        out: PathBuf,
        /// Write nothing; print a diff of what would change and exit 1 if anything would.
        #[arg(long)]
        check: bool,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        format: DiagFormat,
    },
    /// Print the JSON Schema of manifests, for editor completion and validation.
    JsonSchema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Init { dir } => commands::init(&dir),
        Command::Check { manifest, format } => commands::check(&manifest, format),
        Command::Generate { manifest, out, check, format } => commands::generate(&manifest, &out, check, format),
        Command::JsonSchema => {
            println!("{}", gqlauto::manifest::json_schema());
            commands::exit::OK
        }
    };
    ExitCode::from(code)
}
