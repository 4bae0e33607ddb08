//! `apigw-vpc-probe`: the FC custom runtime (`serve`) and the command line (`probe`, `check`). The local
//! stand-in and the demo are another crate's binary (`apigw-standin`), so they never ship.

use clap::{Parser, Subcommand};

use apigw_vpc_probe::runtime;

mod cli;

/// musl's allocator is slow under concurrency; the shipped (musl) binary uses mimalloc.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "apigw-vpc-probe", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve Function Compute's requests: the custom runtime that bootstrap runs.
    Serve(runtime::ServeArgs),
    /// Call an API and report phases and errors.
    Probe(Box<cli::ProbeArgs>),
    /// Call an API, then cross-check the configuration it depends on through Alibaba Cloud's
    /// OpenAPI, and report both.
    Check(Box<cli::CheckArgs>),
}

fn main() {
    let args = Cli::parse();
    let tokio_rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(cli::EXIT_USAGE);
        }
    };
    let code = tokio_rt.block_on(async {
        match args.command {
            Command::Serve(a) => runtime::serve(a).await,
            Command::Probe(a) => cli::probe(*a).await,
            Command::Check(a) => cli::check(*a).await,
        }
    });
    std::process::exit(code);
}
