//! The `gqlauto` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gqlauto::api::DiagFormat;
use gqlauto::commands::diff::{DiffRequest, ReportFormat};
use gqlauto::commands::{self, DjangoSource};
use gqlauto::diff::{Level, Policy};

/// Compile a data-model manifest into a GraphQL server crate (async-graphql, axum, Diesel).
#[derive(Debug, Parser)]
#[command(name = "gqlauto", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a manifest, `gqlauto.yaml`, into DIR: a commented starter, or one imported from a
    /// Django project.
    Init {
        /// Directory for the manifest (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Import the models of the Django project in this directory (runs its Python).
        #[arg(long, value_name = "PROJECT_DIR", conflicts_with = "from_django_dump", requires = "settings")]
        from_django: Option<PathBuf>,
        /// The project's settings module, as DJANGO_SETTINGS_MODULE (`mysite.settings`).
        #[arg(long)]
        settings: Option<String>,
        /// The project's Python interpreter (its virtualenv's `bin/python`).
        #[arg(long, default_value = "python3")]
        python: String,
        /// Import only these apps (comma-separated labels).
        #[arg(long)]
        apps: Option<String>,
        /// Leave these apps out (comma-separated labels).
        #[arg(long)]
        exclude_apps: Option<String>,
        /// Import a dump written by the exporter (`gqlauto django-exporter > exporter.py`).
        #[arg(long, value_name = "FILE")]
        from_django_dump: Option<PathBuf>,
    },
    /// Print the Django exporter, a single Python file that writes the dump `init --from-django-dump` reads.
    DjangoExporter,
    /// Validate a manifest and report every problem in it.
    Check {
        /// The manifest: .yaml, .yml or .json.
        manifest: PathBuf,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        format: DiagFormat,
        /// Files of GraphQL operations your clients send: each filter, ordering or grouping on a
        /// table gqlauto does not manage that no index serves is reported (W503), with the
        /// index to add. Repeatable.
        #[arg(long = "queries", value_name = "FILE")]
        queries: Vec<PathBuf>,
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
    /// Compare two schemas: which changes break clients or lose stored rows.
    ///
    /// Every change is graded breaking, dangerous or safe. Exits 0 when nothing breaks (see
    /// `--fail-on`), 1 when something does, 2 on error.
    ///
    /// Each side is a GraphQL schema (.graphql, .gql) or a manifest (.yaml, .yml, .json). Two
    /// manifests also compare their databases.
    Diff {
        /// OLD NEW, or just NEW with `--base`.
        #[arg(num_args = 1..=2, required = true, value_name = "OLD NEW")]
        files: Vec<PathBuf>,
        /// Compare NEW with the same file at this git revision (a branch, tag or commit).
        #[arg(long, value_name = "REV")]
        base: Option<String>,
        /// How to print the changes.
        #[arg(long, value_enum, default_value = "human")]
        format: ReportFormat,
        /// The lowest criticality that makes the command exit 1.
        #[arg(long, value_enum, default_value = "breaking")]
        fail_on: Level,
        /// Grade removing a field, argument or enum value the old schema deprecated as dangerous.
        #[arg(long)]
        allow_deprecated_removal: bool,
        /// Leave out changes of a kind (FIELD_REMOVED), under a coordinate (Query.posts), or both
        /// (FIELD_REMOVED:Query.posts). Repeatable.
        #[arg(long, value_name = "RULE")]
        ignore: Vec<String>,
    },
    /// Print the JSON Schema of manifests, for editor completion and validation.
    JsonSchema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Init { dir, from_django: None, from_django_dump: None, .. } => commands::init(&dir),
        Command::Init { dir, from_django, from_django_dump, settings, python, apps, exclude_apps } => {
            let source = match (&from_django, &from_django_dump) {
                (Some(project), _) => DjangoSource::Project(gqlauto::django::Project {
                    dir: project,
                    settings: settings.as_deref().unwrap_or_default(),
                    python: &python,
                    apps: apps.as_deref(),
                    exclude_apps: exclude_apps.as_deref(),
                }),
                (None, Some(dump)) => DjangoSource::Dump(dump),
                (None, None) => unreachable!("matched above"),
            };
            commands::init_from_django(&dir, &source)
        }
        Command::DjangoExporter => {
            print!("{}", gqlauto::django::EXPORTER);
            commands::exit::OK
        }
        Command::Check { manifest, format, queries } => commands::check(&manifest, format, &queries),
        Command::Generate { manifest, out, check, format } => commands::generate(&manifest, &out, check, format),
        Command::Diff { files, base, format, fail_on, allow_deprecated_removal, ignore } => {
            let (old, new) = match (files.as_slice(), &base) {
                ([new], Some(_)) => (None, new),
                ([old, new], None) => (Some(old.as_path()), new),
                _ => {
                    eprintln!("error: give two files (OLD NEW), or one file and `--base REV`");
                    return ExitCode::from(commands::exit::USAGE);
                }
            };
            let policy = Policy { allow_deprecated_removal, ignore };
            commands::diff::diff(&DiffRequest { old, new, base: base.as_deref(), format, fail_on, policy })
        }
        Command::JsonSchema => {
            println!("{}", gqlauto::manifest::json_schema());
            commands::exit::OK
        }
    };
    ExitCode::from(code)
}
